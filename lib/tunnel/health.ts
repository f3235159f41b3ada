/**
 * Whether a running tunnel is really serving, from what the heartbeat and the public-URL check
 * see (not from the fact that setup once finished): a tunnel whose Lease lapsed because the API
 * failed for a while answers `503 Tunnel not online` at the edge, and its state must say so.
 *
 * Its changes are sent as the `tunnel_degraded` and `tunnel_recovered` warnings, which
 * `status.json` follows. The tracker is pure bookkeeping (the
 * caller feeds it heartbeat outcomes and probe results with a clock), so the rules are testable:
 * degraded as soon as the public URL fails, or once the heartbeat has not renewed the Lease for
 * longer than its duration; ready again only after a renewal and a public check that crossed the
 * tunnel after it.
 */

/** The tunnel's state changed after ready. */
export interface HealthChange {
  state: "ready" | "degraded";
  /** `failing` from a heartbeat error until the next renewal. */
  heartbeat: "ok" | "failing";
  /** The last public-URL check since trouble began (`unknown`: none yet). */
  public: "reachable" | "unreachable" | "unknown";
  http_status?: number;
  message: string;
}

/** One public-URL check: reachable means it answered below 500 through this agent. */
export interface PublicCheck {
  reachable: boolean;
  httpStatus?: number;
  error?: string;
}

/** Follows the heartbeat and the public-URL checks of one running tunnel. */
export class HealthTracker {
  #state: "ready" | "degraded" = "ready";
  #failing?: { since: number; message: string };
  #lastRenewal: number;
  #check?: PublicCheck & { at: number };
  readonly #leaseSeconds: () => number;

  /** `now` counts as the last renewal (setup has just proved the tunnel). */
  constructor(now: number, leaseSeconds: () => number) {
    this.#lastRenewal = now;
    this.#leaseSeconds = leaseSeconds;
  }

  /** The state last reported. */
  get state(): "ready" | "degraded" {
    return this.#state;
  }

  /** The heartbeat renewed the Lease. */
  renewed(now: number): void {
    this.#lastRenewal = now;
    this.#failing = undefined;
  }

  /** A heartbeat cycle failed. */
  heartbeatFailed(message: string, now: number): void {
    this.#failing ??= { since: now, message };
    this.#failing.message = message;
  }

  /** Whether a public-URL check is worth making now: only while something is wrong. */
  needsCheck(): boolean {
    return this.#failing !== undefined || this.#state === "degraded";
  }

  /** Records a public-URL check made at `now`. */
  publicChecked(check: PublicCheck, now: number): void {
    this.#check = { ...check, at: now };
  }

  /** The event for a change of state at `now`, or undefined when the state holds. */
  evaluate(now: number): HealthChange | undefined {
    const next = this.#judge(now);
    if (next.state === this.#state) return undefined;
    this.#state = next.state;
    return {
      state: next.state,
      heartbeat: this.#failing ? "failing" : "ok",
      public: this.#check ? (this.#check.reachable ? "reachable" : "unreachable") : "unknown",
      ...(this.#check?.httpStatus !== undefined ? { http_status: this.#check.httpStatus } : {}),
      message: next.message,
    };
  }

  #judge(now: number): { state: "ready" | "degraded"; message: string } {
    const check = this.#check;
    if (check && !check.reachable && check.at >= (this.#failing?.since ?? this.#lastRenewal)) {
      const what = check.httpStatus !== undefined
        ? `HTTP ${check.httpStatus}${check.error ? ` (${check.error})` : ""}`
        : check.error ?? "no answer";
      return { state: "degraded", message: `the public URL is not serving: ${what}` };
    }
    const leaseMs = this.#leaseSeconds() * 1000;
    if (this.#failing && now - this.#lastRenewal > leaseMs) {
      return {
        state: "degraded",
        message: `the heartbeat has not renewed the Lease for ${
          Math.round((now - this.#lastRenewal) / 1000)
        }s (lease ${this.#leaseSeconds()}s; last error: ${this.#failing.message}): the edge answers 503 until it does`,
      };
    }
    if (this.#state === "degraded") {
      const recovered = !this.#failing && check?.reachable === true &&
        check.at > this.#lastRenewal;
      if (!recovered) return { state: "degraded", message: "" };
      return {
        state: "ready",
        message: "the heartbeat renewed the Lease and the public URL answers again",
      };
    }
    return { state: "ready", message: "" };
  }
}
