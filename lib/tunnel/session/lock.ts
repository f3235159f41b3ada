/**
 * The lock phase: one listener per project (or tunnel name) on this machine; unnamed listeners
 * of one project queue behind each other.
 */
import { listenKeyPath } from "../keys.ts";
import { abortableSleep } from "../quota.ts";

/** `<repo>/projects/<pid>/listen.lock`: held by the one listener of a project on this machine. */
export function listenLockPath(repo: string, projectId: string): string {
  return listenKeyPath(repo, projectId).replace(/listen_key$/, "listen.lock");
}

/** How often a queued listener tries the lock again. */
const LOCK_RETRY_MS = 500;

/**
 * Takes the project's listener lock: two listeners sharing one iroh identity would overwrite each
 * other's connection details on the one Connector. A second listener queues behind the holder
 * (after saying so). Only unnamed listeners can meet here: a named tunnel has a folder of its own,
 * whose name lock its process took first (`lockNamedTunnel`, a conflict there is exit 64).
 * Resolves `undefined` when `stop` aborts the wait.
 */
export async function acquireListenLock(
  repo: string,
  projectId: string,
  stop: AbortSignal,
  waiting: (holderPid: string | undefined) => void,
): Promise<Deno.FsFile | undefined> {
  const path = listenLockPath(repo, projectId);
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true, mode: 0o700 });
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  let announced = false;
  while (!(await file.tryLock(true))) {
    const text = (await Deno.readTextFile(path).catch(() => "")).trim();
    const holder = /^\d+$/.test(text) ? text : undefined;
    if (!announced) {
      announced = true;
      waiting(holder);
    }
    await abortableSleep(LOCK_RETRY_MS, stop);
    if (stop.aborted) {
      file.close();
      return undefined;
    }
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}
