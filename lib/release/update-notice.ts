/**
 * The once-a-day "a new datumctl is available" notice.
 *
 * Started before a command runs, it begins at most one network check per 24 hours (the time of the
 * last attempt is kept in `<UserCacheDir>/datumctl/update-check.json`, failures included); finished
 * after it, it waits for that check no longer than what is left of a short budget and returns the
 * newer version, if it found one. A slow or unreachable release server therefore costs a command at
 * most the budget, once a day. Whether to run at all (TTY, opt-outs, install kind) is the caller's
 * decision.
 */
import { compareVersions, fetchLatestVersion } from "./update.ts";
import { readTextIfExists, writePrivateFile } from "../store/files.ts";

/** What `update-check.json` holds. */
export interface UpdateCheckRecord {
  /** When the last check was attempted (ISO time), successful or not. */
  "checked-at": string;
  /** The latest version the last successful check saw. */
  latest?: string;
}

/** How often the release server is asked. */
export const CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** The most a command waits for the check, from `start()`. */
export const CHECK_BUDGET_MS = 800;

/** Inputs of {@link UpdateNotice}. */
export interface UpdateNoticeOptions {
  /** The running version. */
  version: string;
  /** The release folder (see lib/release/platform.ts `releasesUrl`). */
  baseUrl: string;
  /** `<UserCacheDir>/datumctl`. */
  cacheDir: string;
  fetch?: typeof fetch;
  now?: () => number;
  budgetMs?: number;
}

/** The path of the check record in `cacheDir`. */
export function updateCheckPath(cacheDir: string): string {
  return `${cacheDir}/update-check.json`;
}

async function readRecord(path: string): Promise<UpdateCheckRecord | undefined> {
  try {
    const text = await readTextIfExists(path);
    if (text === undefined) return undefined;
    const value = JSON.parse(text);
    return typeof value?.["checked-at"] === "string" ? value : undefined;
  } catch {
    // A cache is safe to lose: an unreadable record only means checking again.
    return undefined;
  }
}

/** One command's view of the update check. */
export class UpdateNotice {
  #opts: Required<Omit<UpdateNoticeOptions, "fetch">> & { fetch: typeof fetch };
  #check?: Promise<string | undefined>;
  #deadline = 0;

  constructor(opts: UpdateNoticeOptions) {
    this.#opts = {
      fetch: opts.fetch ?? fetch,
      now: opts.now ?? Date.now,
      budgetMs: opts.budgetMs ?? CHECK_BUDGET_MS,
      version: opts.version,
      baseUrl: opts.baseUrl,
      cacheDir: opts.cacheDir,
    };
  }

  /** Starts the check when the last one is more than a day old. Never throws. */
  start(): void {
    const o = this.#opts;
    this.#deadline = o.now() + o.budgetMs;
    const path = updateCheckPath(o.cacheDir);
    this.#check = (async () => {
      const record = await readRecord(path);
      const last = record ? Date.parse(record["checked-at"]) : NaN;
      if (!Number.isNaN(last) && o.now() - last < CHECK_INTERVAL_MS && last <= o.now()) {
        return undefined;
      }
      // Claim the attempt before asking, so a check cut short by the process exiting still
      // counts: at most one network check a day, whatever happens to it.
      const attempt: UpdateCheckRecord = { "checked-at": new Date(o.now()).toISOString() };
      if (record?.latest) attempt.latest = record.latest;
      await writePrivateFile(path, JSON.stringify(attempt, null, 2) + "\n");
      const latest = await fetchLatestVersion(
        o.baseUrl,
        o.fetch,
        AbortSignal.timeout(o.budgetMs),
      ).catch(() => undefined);
      if (latest) {
        const found: UpdateCheckRecord = { ...attempt, latest };
        await writePrivateFile(path, JSON.stringify(found, null, 2) + "\n").catch(() => {});
      }
      return latest;
    })().catch(() => undefined);
  }

  /**
   * Waits for the check (at most until the budget from `start()` runs out) and returns the
   * newer version it found, else `undefined`.
   */
  async finish(): Promise<string | undefined> {
    if (!this.#check) return undefined;
    const left = Math.max(0, this.#deadline - this.#opts.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), left);
    });
    const latest = await Promise.race([this.#check, timeout]);
    clearTimeout(timer);
    if (!latest || compareVersions(latest, this.#opts.version) <= 0) return undefined;
    return latest;
  }
}
