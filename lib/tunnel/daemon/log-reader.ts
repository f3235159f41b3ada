/**
 * Reading a named tunnel's rotated log: the last lines across its files, and following it as it
 * grows and rotates (`tunnel logs --follow`), like `tail -F`.
 */
import { abortableSleep } from "../quota.ts";
import { rotatedLogPaths } from "./rotating-log.ts";

/** The last `count` lines (all when undefined) across the log's files, oldest first. */
export async function readLogTail(path: string, count?: number): Promise<string[]> {
  const lines: string[] = [];
  for (const file of rotatedLogPaths(path)) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n")) if (line !== "") lines.push(line);
  }
  return count === undefined ? lines : lines.slice(Math.max(0, lines.length - count));
}

/**
 * Calls `onLine` for every line appended to `path` from its current end (or from `offset`),
 * across rotations, until `signal` aborts. Polls every `intervalMs`.
 */
export async function followLog(
  path: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
  intervalMs = 250,
): Promise<void> {
  let file: Deno.FsFile | undefined;
  let ino: number | null | undefined;
  let partial = "";
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  const drain = async () => {
    if (!file) return;
    while (true) {
      const n = await file.read(buffer);
      if (n === null || n === 0) break;
      partial += decoder.decode(buffer.subarray(0, n), { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) if (line !== "") onLine(line);
    }
  };
  const open = async (fromEnd: boolean) => {
    try {
      file = await Deno.open(path, { read: true });
      ino = (await file.stat()).ino;
      if (fromEnd) await file.seek(0, Deno.SeekMode.End);
    } catch {
      file = undefined;
    }
  };
  await open(true);
  try {
    while (!signal.aborted) {
      await drain();
      // Rotated (a new file at the path) or not there yet: finish the old one, open the new.
      const now = await Deno.stat(path).catch(() => undefined);
      if (now && (!file || now.ino !== ino)) {
        await drain();
        file?.close();
        await open(false);
        continue;
      }
      await abortableSleep(intervalMs, signal);
    }
  } finally {
    file?.close();
  }
}
