/**
 * Keeps a running tunnel's login fresh on a timer, so no request ever meets a stale token: the
 * token is refreshed as soon as it is due (5 minutes before expiry, half the lifetime for short
 * tokens), a failure that may pass (network, 5xx, timeouts) is retried 1 s, 2 s, 4 s … at most 60 s
 * apart without giving up, and a permanent one (refresh token revoked, service-account key
 * rejected) is reported once so the tunnel can stop with exit 77. Service-account logins mint a new
 * assertion on each refresh.
 *
 * A token source that cannot be refreshed (`DATUM_TOKEN`) is left alone.
 */
import {
  isKeptTokenSource,
  isTransientRefreshError,
  type KeptTokenSource,
} from "../auth/session-tokens.ts";
import type { TokenSource } from "../auth/token-source.ts";
import { nextBackoffMs, NudgeableSleep } from "./backoff.ts";

/** The longest wait between two looks at the token, so a wall-clock jump is noticed. */
const MAX_CHECK_MS = 60_000;
/** The shortest wait, so a token that is due again at once cannot spin the loop. */
const MIN_CHECK_MS = 500;

/** Options of {@link TokenKeeper}. */
export interface TokenKeeperOptions {
  tokens: TokenSource;
  /** A permanent failure: the login cannot mint tokens any more. Called once; the keeper ends. */
  onLost: (error: unknown) => void;
  /** A failure that may pass; the next attempt follows after `delayMs`. */
  onRetry?: (error: unknown, delayMs: number) => void;
  /** A refresh succeeded after failures. */
  onRecovered?: () => void;
  /** Wall clock (tests). */
  now?: () => number;
}

/** Refreshes a login ahead of its expiry until stopped. */
export class TokenKeeper {
  readonly #opts: TokenKeeperOptions;
  readonly #tokens?: KeptTokenSource;
  readonly #abort = new AbortController();
  readonly #sleeper = new NudgeableSleep(this.#abort.signal);
  #loop?: Promise<void>;
  #backoffMs?: number;
  #failing = false;

  constructor(options: TokenKeeperOptions) {
    this.#opts = options;
    this.#tokens = isKeptTokenSource(options.tokens) ? options.tokens : undefined;
  }

  /** Starts the loop (idempotent; does nothing for a token that cannot be refreshed). */
  start(): void {
    if (!this.#tokens) return;
    this.#loop ??= this.#run(this.#tokens);
  }

  /** Looks at the token now (e.g. after a wake from sleep), cutting the current wait short. */
  nudge(): void {
    this.#backoffMs = undefined;
    this.#sleeper.nudge();
  }

  /** Stops the loop and waits for an attempt in progress to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  async #run(tokens: KeptTokenSource): Promise<void> {
    while (!this.#abort.signal.aborted) {
      this.#sleeper.clear();
      let delayMs: number;
      try {
        await tokens.refreshIfDue();
        this.#backoffMs = undefined;
        if (this.#failing) {
          this.#failing = false;
          this.#opts.onRecovered?.();
        }
        const due = tokens.refreshDueAt();
        delayMs = due === undefined
          ? MAX_CHECK_MS
          : Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, due.getTime() - this.#now()));
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        if (!isTransientRefreshError(err)) {
          this.#opts.onLost(err);
          return;
        }
        this.#failing = true;
        delayMs = this.#backoffMs = nextBackoffMs(this.#backoffMs);
        this.#opts.onRetry?.(err, delayMs);
      }
      await this.#sleeper.sleep(delayMs);
    }
  }
}
