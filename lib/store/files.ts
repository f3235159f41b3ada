/**
 * Atomic private file writes, cross-process locks and the signal deferral that makes writes of
 * secrets durable.
 *
 * Every file datumctl writes goes through {@link writePrivateFile}: temp file beside the real
 * file, fsync, rename, fsync of the folder, mode 0600 in a 0700 folder, so a crash or a
 * concurrent reader never sees half a file. A path that is a symbolic link (a dotfiles repo) is
 * written through to the link's target, which stays where it is. SIGINT and SIGTERM wait while
 * the temp file exists ({@link withSignalsDeferred}), so an interrupt never leaves one behind;
 * a leftover from a harder kill is handled by {@link recoverLeftoverWrite} under the file's lock.
 * {@link withFileLock} serialises read-modify-write cycles between processes (flock).
 * {@link tightenDatumctlDir} closes a `~/.datumctl` that others can read and queues a note that
 * main.ts prints at the end of the command (lib/core/notes.ts).
 */
import { queueNote, takeNotes } from "../core/notes.ts";

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Runs `fn` with SIGINT and SIGTERM held back; they take effect afterwards, once. Commands with
 * their own signal handling register it in lib/process/signals.ts, which is loaded on the first
 * write: a command that only reads files never needs it.
 */
export async function withSignalsDeferred<T>(fn: () => Promise<T>): Promise<T> {
  const signals = await import("../process/signals.ts");
  return await signals.withSignalsDeferred(fn);
}

/** Creates `dir` (and parents) with mode 0700 when missing. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * The file a write to `path` lands in: `path` itself, or, when it is a symbolic link (a chain
 * of them), the final target, even one that does not exist yet.
 */
export async function writeTargetOf(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 32; hops++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return current;
      throw err;
    }
    if (!info.isSymlink) return current;
    const link = await Deno.readLink(current);
    current = link.startsWith("/") ? link : `${dirname(current)}/${link}`;
  }
  throw new Error(`${path}: too many levels of symbolic links`);
}

async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Writes `data` to `path` atomically with mode 0600 and makes it durable (file and folder
 * fsynced) before returning. A symbolic link at `path` is kept: its target is replaced.
 */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  const target = await writeTargetOf(path);
  const dir = dirname(target);
  await ensurePrivateDir(dir);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await withSignalsDeferred(async () => {
    const tmp = `${target}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
      try {
        let written = 0;
        while (written < bytes.length) written += await file.write(bytes.subarray(written));
        await file.sync();
      } finally {
        file.close();
      }
      if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o600);
      await Deno.rename(tmp, target);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw err;
    }
    await syncDir(dir);
  });
}

/** What {@link recoverLeftoverWrite} did with the temp files it found. */
export interface LeftoverOutcome {
  /** The temp file that replaced the real file, if one did. */
  recovered?: string;
  /** Temp files deleted. */
  removed: string[];
}

/**
 * Deals with temp files a killed writer of `path` left behind (`<target>.tmp-<pid>-<rand>`):
 * the newest one that `accept` takes (it parses) and that is at least as new as the real file
 * replaces it, durably; every other one is deleted. Call it only while holding the lock every
 * writer of `path` holds, so no temp file belongs to a write still in progress.
 */
export async function recoverLeftoverWrite(
  path: string,
  accept: (text: string) => boolean,
): Promise<LeftoverOutcome> {
  const target = await writeTargetOf(path);
  const dir = dirname(target);
  const leftovers: { path: string; mtime: number }[] = [];
  for (const p of await leftoverWritesOf(path)) {
    const info = await Deno.lstat(p).catch(() => undefined);
    if (info) leftovers.push({ path: p, mtime: info.mtime?.getTime() ?? 0 });
  }
  const outcome: LeftoverOutcome = { removed: [] };
  if (leftovers.length === 0) return outcome;
  const current = await Deno.stat(target).catch(() => undefined);
  const currentMtime = current?.mtime?.getTime() ?? -Infinity;
  leftovers.sort((a, b) => b.mtime - a.mtime);
  return await withSignalsDeferred(async () => {
    for (const leftover of leftovers) {
      if (!outcome.recovered && leftover.mtime >= currentMtime) {
        const text = await Deno.readTextFile(leftover.path).catch(() => undefined);
        if (text !== undefined && text.trim() !== "" && accept(text)) {
          // The writer may have died before its fsync.
          const file = await Deno.open(leftover.path, { read: true, write: true });
          try {
            await file.sync();
          } finally {
            file.close();
          }
          if (Deno.build.os !== "windows") await Deno.chmod(leftover.path, 0o600);
          await Deno.rename(leftover.path, target);
          await syncDir(dir);
          outcome.recovered = leftover.path;
          continue;
        }
      }
      await Deno.remove(leftover.path).catch(() => {});
      outcome.removed.push(leftover.path);
    }
    if (outcome.removed.length > 0) await syncDir(dir);
    return outcome;
  });
}

/** The temp files an interrupted write of `path` left beside its target (usually none). */
export async function leftoverWritesOf(path: string): Promise<string[]> {
  const target = await writeTargetOf(path);
  const dir = dirname(target);
  const prefix = `${basename(target)}.tmp-`;
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(prefix)) found.push(`${dir}/${entry.name}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found;
}

const checkedDirs = new Set<string>();

/**
 * Makes sure a `.datumctl` folder (which holds login secrets) is reachable by its owner only:
 * one that others can read or enter is changed to 0700, once per process, with a note queued
 * for main.ts to print. Folders of any other name are left alone.
 */
export async function tightenDatumctlDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows" || basename(dir) !== ".datumctl" || checkedDirs.has(dir)) {
    return;
  }
  checkedDirs.add(dir);
  const info = await Deno.stat(dir).catch(() => undefined);
  if (!info?.isDirectory || info.mode === null) return;
  const mode = info.mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const was = mode.toString(8).padStart(4, "0");
  try {
    await Deno.chmod(dir, 0o700);
    queueNote(
      `${dir} was open to other users (mode ${was}); changed it to 0700, as it holds your logins`,
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    queueNote(
      `${dir} is open to other users (mode ${was}) and could not be changed to 0700: ${reason}`,
    );
  }
}

/** The notes about files queued in this process (and forgets them); the caller prints them. */
export function takeFileNotes(): string[] {
  return takeNotes();
}

/** Whether anything (file, folder, link) is at `path`; errors other than "not found" throw. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Whether `path` can be stat'ed right now (for synchronous probes; any error counts as no). */
export function pathExistsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a text file, or returns `undefined` when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Runs `fn` while holding an exclusive lock on `<path>.lock`, shared by every datumctl process.
 * The lock file itself is never removed: removing it would let two processes lock different
 * inodes.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  await ensurePrivateDir(dirname(lockPath));
  const file = await Deno.open(lockPath, { write: true, create: true, mode: 0o600 });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    try {
      await file.unlock();
    } catch { /* closing releases it anyway */ }
    file.close();
  }
}
