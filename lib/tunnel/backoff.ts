/**
 * The retry schedule of a long-running tunnel: 1 s, doubling, at most 60 s, never giving up. The
 * heartbeat and the token keeper both follow it, so a host that lost its network recovers within a
 * minute of getting it back.
 *
 * The wait between two attempts can be nudged, which ends it at once, so either loop can retry
 * without waiting out its delay.
 */
import { abortableSleep } from "./quota.ts";

/** The first delay after a failure. */
export const BACKOFF_START_MS = 1_000;
/** The longest delay between two attempts. */
export const BACKOFF_MAX_MS = 60_000;

/** The delay after a failure, given the previous one (`undefined` after a success). */
export function nextBackoffMs(previousMs: number | undefined): number {
  return previousMs === undefined
    ? BACKOFF_START_MS
    : Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_START_MS, previousMs * 2));
}

/**
 * The wait of a loop between two attempts: `nudge()` ends the current wait at once, or, when it
 * comes while an attempt runs, makes the next wait return at once; `stop` (aborted) ends it too.
 */
export class NudgeableSleep {
  readonly #stop: AbortSignal;
  #wake?: () => void;
  #nudged = false;

  constructor(stop: AbortSignal) {
    this.#stop = stop;
  }

  /** Waits `ms`, unless nudged since the last {@link NudgeableSleep.clear} or meanwhile. */
  async sleep(ms: number): Promise<void> {
    if (this.#nudged) {
      this.#nudged = false;
      return;
    }
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    await abortableSleep(ms, AbortSignal.any([wake.signal, this.#stop]));
    this.#wake = undefined;
  }

  /** Cuts the current wait short, or the next one when no wait is under way. */
  nudge(): void {
    if (this.#wake) this.#wake();
    else this.#nudged = true;
  }

  /** Forgets a nudge that the attempt now starting already answers. */
  clear(): void {
    this.#nudged = false;
  }
}
