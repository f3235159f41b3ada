/**
 * Atomic private file writes and cross-process locks.
 *
 * Every file datumctl writes goes through {@link writePrivateFile}: temp file in the same folder,
 * fsync, rename, mode 0600 in a 0700 folder, so a crash or a concurrent reader never sees half a
 * file. {@link withFileLock} serialises read-modify-write cycles between processes (flock).
 */

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Creates `dir` (and parents) with mode 0700 when missing. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Writes `data` to `path` atomically with mode 0600. */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await ensurePrivateDir(dir);
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
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
