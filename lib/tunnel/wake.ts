/**
 * Waking up after the host slept: a tunnel whose host slept past its Lease re-enables itself on
 * wake instead of exiting. While a laptop sleeps or the process is
 * stopped, no timer runs: the Lease lapses, the Connector goes not-Ready and the edge answers
 * 503. {@link WakeDetector} notices the gap (a one-second tick that fires much later by the wall
 * clock than scheduled, which covers both a suspended host, whose monotonic clock stood still,
 * and a stopped process); {@link WakeRecovery} then refreshes the login if due, makes the
 * heartbeat re-resolve Connector and Lease, renew and re-publish at once, and re-creates the
 * tunnel's advertisement if it is gone, reporting `woke_up` and `reenabled` warnings.
 */
import type { TunnelEvent } from "./events.ts";

/** How often the detector looks at the clock. */
export const WAKE_TICK_MS = 1_000;

/**
 * The extra delay of a tick that counts as a suspension: half the Lease (a shorter gap cannot
 * have lapsed it), at least 2 s (busy machines delay timers) and at most 10 s.
 */
export function wakeThresholdMs(leaseSeconds: number): number {
  return Math.min(10_000, Math.max(2_000, (leaseSeconds * 1000) / 2));
}

/**
 * How long the process was away between two ticks `tickMs` apart, by the wall clock; `undefined`
 * when the gap is within `thresholdMs` of the schedule (or the clock went backwards).
 */
export function suspensionMs(
  previousMs: number,
  nowMs: number,
  tickMs: number,
  thresholdMs: number,
): number | undefined {
  const late = nowMs - previousMs - tickMs;
  return late > thresholdMs ? late : undefined;
}

/** Options of {@link WakeDetector}. */
export interface WakeDetectorOptions {
  /** Called with how long (ms) the process was away. */
  onWake: (suspendedMs: number) => void;
  /** The gap that counts as a suspension; read at every tick (the Lease may change). */
  thresholdMs: () => number;
  tickMs?: number;
  /** Wall clock (tests). */
  now?: () => number;
}

/** Ticks once a second and reports ticks that came much later than scheduled. */
export class WakeDetector {
  readonly #opts: WakeDetectorOptions;
  #timer?: ReturnType<typeof setTimeout>;
  #last = 0;

  constructor(options: WakeDetectorOptions) {
    this.#opts = options;
  }

  /** Starts ticking (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#now();
    this.#schedule();
  }

  /** Stops ticking. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  #schedule(): void {
    const tick = this.#opts.tickMs ?? WAKE_TICK_MS;
    this.#timer = setTimeout(() => {
      const now = this.#now();
      const away = suspensionMs(this.#last, now, tick, this.#opts.thresholdMs());
      this.#last = now;
      this.#schedule();
      if (away !== undefined) {
        try {
          this.#opts.onWake(away);
        } catch { /* reporting must not stop the detector */ }
      }
    }, tick);
  }
}

/** What {@link WakeRecovery} drives. */
export interface WakeRecoveryOptions {
  emit: (event: TunnelEvent) => void;
  /** Starts the heartbeat over; resolves true once the Lease was renewed. */
  recoverHeartbeat: () => Promise<boolean>;
  /** Refreshes the login now if it is due. */
  refreshLogin: () => void;
  /** The Lease duration in seconds, for the message. */
  leaseSeconds: () => number;
  /** The tunnel being served, once it exists. */
  tunnelId: () => string | undefined;
  /** Whether tunnel `id` is enabled (its advertisement exists); undefined when it is gone. */
  isEnabled: (id: string) => Promise<boolean | undefined>;
  /** Re-creates the advertisement of tunnel `id`. */
  enable: (id: string) => Promise<void>;
}

/** Brings a tunnel back after a suspension; one recovery at a time. */
export class WakeRecovery {
  readonly #opts: WakeRecoveryOptions;
  #running?: Promise<void>;
  #again = false;

  constructor(options: WakeRecoveryOptions) {
    this.#opts = options;
  }

  /** Reports the wake and recovers (a wake during a recovery starts one more afterwards). */
  handle(suspendedMs: number): Promise<void> {
    const seconds = Math.round(suspendedMs / 1000);
    const lease = this.#opts.leaseSeconds();
    this.#opts.emit({
      type: "warning",
      code: "woke_up",
      message:
        `this process was suspended for about ${seconds}s (the host slept or the process was stopped)${
          suspendedMs >= lease * 1000 ? `, longer than its ${lease}s Lease` : ""
        }; refreshing the login, renewing the Lease and re-enabling the tunnel`,
    });
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#recover().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#running = this.#recover().finally(() => (this.#running = undefined));
      }
    });
    return this.#running;
  }

  /** Resolves when no recovery is running. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #recover(): Promise<void> {
    const o = this.#opts;
    o.refreshLogin();
    const renewed = await o.recoverHeartbeat();
    if (!renewed) return;
    const id = o.tunnelId();
    let recreated = false;
    if (id) {
      try {
        const enabled = await o.isEnabled(id);
        if (enabled === false) {
          await o.enable(id);
          recreated = true;
        }
      } catch (err) {
        o.emit({
          type: "warning",
          code: "wake_recovery",
          message: `after waking up, re-enabling tunnel ${id} failed: ${(err as Error).message}`,
        });
        return;
      }
    }
    o.emit({
      type: "warning",
      code: "reenabled",
      message: `${
        id ? `tunnel ${id} ` : "the tunnel "
      }re-enabled after the suspension: Lease renewed${
        recreated ? ", advertisement re-created" : ""
      }, connection details re-published`,
    });
  }
}
