/**
 * The heartbeat that keeps a tunnel routable: it publishes this agent's
 * connection details on its Connector (only when they change) and renews the Connector's Lease at
 * half its duration plus a little jitter. Without it the Connector goes not-Ready and the edge
 * answers `503 Tunnel not online`.
 *
 * A Lease 404 resets the cache (the next cycle re-resolves Connector and Lease, so a deleted Lease
 * is never renewed forever); a 401 forces a token refresh; anything else keeps the cache and backs
 * off. {@link Heartbeat.recover} starts over from the Connector at once (after the host slept past
 * its Lease). It serves exactly one project: it never enrols others.
 */
import { ApiError } from "../api/errors.ts";
import { checkResourceName } from "../api/urls.ts";
import {
  type AgentAddress,
  buildConnectionDetails,
  NO_HOME_RELAY,
  sameConnectionDetails,
} from "./details.ts";
import { nextBackoffMs, NudgeableSleep } from "./backoff.ts";
import type { ConnectionDetails, Connector, Lease } from "./resources.ts";
import { TUNNEL_KINDS } from "./resources.ts";
import type { TunnelService } from "./tunnel-api.ts";

/** A Connector whose `leaseRef` cannot be a name (`.`, `a/b`) is never renewed through a path. */
const LEASE_NAME_HINT = "The server sent a Lease name that cannot be one; report it.";

/** The lease duration assumed when the Lease does not say (the operator's default). */
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * Seconds until the next renewal: `base = max(1, floor(d/2))` plus a whole-second jitter in
 * `0..=max(1, floor(base/5))` (15–18 s for d = 30).
 */
export function renewDelaySeconds(
  durationSeconds: number,
  random: () => number = Math.random,
): number {
  const base = Math.max(1, Math.floor(durationSeconds / 2));
  const maxJitter = Math.max(1, Math.floor(base / 5));
  return base + Math.min(maxJitter, Math.floor(random() * (maxJitter + 1)));
}

export { nextBackoffMs };

/** RFC 3339 with microseconds and `Z`, as the Lease's `renewTime` wants it. */
export function leaseRenewTime(now: Date = new Date()): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** What the heartbeat reports to whoever renders it. */
export type HeartbeatEvent =
  | { type: "published"; connector: string; details: ConnectionDetails }
  | { type: "renewed"; lease: string; durationSeconds: number }
  | { type: "waiting"; reason: string }
  | { type: "error"; message: string; status?: number }
  | { type: "auth_lost"; error: unknown };

/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  service: TunnelService;
  /** The agent's live address (relay and direct addresses), undefined before it has one. */
  address: () => AgentAddress | undefined;
  onEvent?: (event: HeartbeatEvent) => void;
  random?: () => number;
}

interface Cache {
  connector: string;
  lease?: string;
  relay?: string;
  durationSeconds?: number;
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiError ? err.httpStatus : undefined;
}

/** True when the error means the login cannot mint tokens any more (refresh revoked or expired). */
export function isLoginLost(err: unknown): boolean {
  if (err instanceof ApiError) return err.httpStatus === 401;
  const e = err as { exitCode?: number; code?: string } | undefined;
  return e?.exitCode === 77 && !(err instanceof ApiError && err.httpStatus === 403);
}

/** Publishes connection details and renews the Lease until stopped. */
export class Heartbeat {
  readonly #opts: HeartbeatOptions;
  readonly #abort = new AbortController();
  readonly #sleeper = new NudgeableSleep(this.#abort.signal);
  /** Bumped by {@link recover}; a renewal by a cycle started at epoch `e` settles waiters <= e. */
  #epoch = 0;
  #waiters: { epoch: number; resolve: (renewed: boolean) => void }[] = [];
  #cache?: Cache;
  /** The duration of the last renewed Lease (survives a cache reset). */
  #lastDuration?: number;
  #published?: ConnectionDetails;
  #backoffMs?: number;
  #loop?: Promise<void>;
  #firstRenewal: Promise<void>;
  #resolveFirstRenewal!: () => void;
  #renewed = false;

  constructor(options: HeartbeatOptions) {
    this.#opts = options;
    this.#firstRenewal = new Promise((resolve) => (this.#resolveFirstRenewal = resolve));
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Whether the Lease has been renewed at least once. */
  get renewed(): boolean {
    return this.#renewed;
  }

  /** Resolves once the Lease has been renewed at least once. */
  firstRenewal(): Promise<void> {
    return this.#firstRenewal;
  }

  /** The Lease duration last read, or the default before the first read. */
  get leaseDurationSeconds(): number {
    return this.#cache?.durationSeconds ?? this.#lastDuration ?? DEFAULT_LEASE_SECONDS;
  }

  /** Runs a cycle now (e.g. the agent's address changed); the current sleep is cut short. */
  nudge(): void {
    this.#sleeper.nudge();
  }

  /**
   * Starts over now, as after a fresh start: forget the Connector, Lease and published details,
   * reset the back-off, then look them up again, re-publish and renew. For a process that was
   * suspended (the host slept) past its Lease. Resolves `true` once a cycle started after this
   * call renewed the Lease, `false` if the heartbeat stops first.
   */
  recover(): Promise<boolean> {
    this.#epoch++;
    this.#cache = undefined;
    this.#published = undefined;
    this.#backoffMs = undefined;
    const epoch = this.#epoch;
    const renewed = new Promise<boolean>((resolve) => this.#waiters.push({ epoch, resolve }));
    if (this.#stopped) this.#settle(Infinity, false);
    this.nudge();
    return renewed;
  }

  /** Stops the loop and waits for the current cycle to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#settle(Infinity, false);
  }

  #settle(upTo: number, renewed: boolean): void {
    const due = this.#waiters.filter((w) => w.epoch <= upTo);
    this.#waiters = this.#waiters.filter((w) => w.epoch > upTo);
    for (const w of due) w.resolve(renewed);
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  #emit(event: HeartbeatEvent): void {
    try {
      this.#opts.onEvent?.(event);
    } catch { /* a renderer's failure must not stop the heartbeat */ }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let delayMs: number;
      this.#sleeper.clear();
      try {
        const result = await this.#cycle(this.#epoch);
        if (result.waiting) {
          this.#backoffMs = nextBackoffMs(this.#backoffMs);
          delayMs = this.#backoffMs;
        } else {
          this.#backoffMs = undefined;
          delayMs = result.delayMs;
        }
      } catch (err) {
        if (this.#stopped) break;
        if (isLoginLost(err)) {
          this.#emit({ type: "auth_lost", error: err });
          delayMs = nextBackoffMs(this.#backoffMs);
        } else {
          this.#emit({ type: "error", message: (err as Error).message, status: statusOf(err) });
          delayMs = nextBackoffMs(this.#backoffMs);
        }
        this.#backoffMs = delayMs;
      }
      if (this.#stopped) break;
      await this.#sleeper.sleep(delayMs);
    }
  }

  /**
   * One cycle; returns the delay until the next one, or `waiting` (no Connector or Lease yet:
   * back off). Throws to back off after an error.
   */
  async #cycle(epoch: number): Promise<{ delayMs: number; waiting?: false } | { waiting: true }> {
    const { service } = this.#opts;
    if (!this.#cache) {
      const connector = await service.findConnector();
      if (!connector) {
        this.#emit({ type: "waiting", reason: "no connector yet" });
        return { waiting: true };
      }
      this.#cache = this.#fromConnector(connector);
    }
    const cache = this.#cache;
    if (!cache.lease) {
      let connector: Connector | undefined;
      try {
        connector = await service.getConnector(cache.connector);
      } catch (err) {
        this.#cache = undefined;
        throw err;
      }
      if (!connector) {
        this.#cache = undefined;
        throw new Error(`Connector ${cache.connector} disappeared`);
      }
      Object.assign(cache, this.#fromConnector(connector));
      if (!cache.lease) {
        this.#emit({ type: "waiting", reason: "connector has no lease yet" });
        return { waiting: true };
      }
    }

    const address = this.#opts.address();
    if (address?.relay) cache.relay = address.relay;
    const details = buildConnectionDetails(service.endpointId, {
      relay: address?.relay ?? cache.relay,
      direct: address?.direct ?? [],
    });
    if (details && !sameConnectionDetails(details, this.#published)) {
      try {
        await service.patchConnectionDetails(cache.connector, details);
      } catch (err) {
        if (statusOf(err) === 404) this.#cache = undefined;
        throw err;
      }
      this.#published = details;
      this.#emit({ type: "published", connector: cache.connector, details });
    }

    const leasePath = `${TUNNEL_KINDS.Lease.path}/${
      encodeURIComponent(checkResourceName(cache.lease!, "Lease name", LEASE_NAME_HINT))
    }`;
    try {
      if (cache.durationSeconds === undefined) {
        const lease = await service.client.get<Lease>(leasePath);
        cache.durationSeconds = lease.spec?.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS;
      }
      await service.client.patchMerge(leasePath, { spec: { renewTime: leaseRenewTime() } });
    } catch (err) {
      if (statusOf(err) === 404) {
        // The Lease is gone (deleted, reaped): re-resolve Connector and Lease next cycle.
        this.#cache = undefined;
        this.#published = undefined;
      }
      throw err;
    }
    const duration = cache.durationSeconds ?? DEFAULT_LEASE_SECONDS;
    this.#lastDuration = duration;
    this.#emit({ type: "renewed", lease: cache.lease!, durationSeconds: duration });
    this.#renewed = true;
    this.#resolveFirstRenewal();
    this.#settle(epoch, true);
    return { delayMs: renewDelaySeconds(duration, this.#opts.random) * 1000 };
  }

  #fromConnector(connector: Connector): Cache {
    return {
      connector: connector.metadata.name,
      lease: connector.status?.leaseRef?.name || undefined,
      relay: realRelay(connector.status?.connectionDetails?.publicKey?.homeRelay) ??
        this.#cache?.relay,
    };
  }
}

/** A published relay, or undefined for none (the placeholder a direct-only agent publishes). */
function realRelay(url: string | undefined): string | undefined {
  return url && url !== NO_HOME_RELAY ? url : undefined;
}
