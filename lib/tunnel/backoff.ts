/**
 * The retry schedule of a long-running tunnel (spec/unattended-tunnels.md, "Long-running
 * credentials"): 1 s, doubling, at most 60 s, never giving up. The heartbeat and the token keeper
 * both follow it, so a host that lost its network recovers within a minute of getting it back.
 *
 * Exports {@link nextBackoffMs}, {@link BACKOFF_START_MS} and {@link BACKOFF_MAX_MS}.
 */

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
