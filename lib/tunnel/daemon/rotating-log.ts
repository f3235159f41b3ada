/**
 * A size-rotated log of JSON lines for detached tunnels and services: `tunnel.log`, then
 * `tunnel.log.1` … `tunnel.log.<keep-1>` (oldest last). Rotation renames; the writer never
 * truncates a file someone may be following.
 *
 * By default a file rotates at 10 MiB and 5 files are kept.
 */
import { ensurePrivateDir, pathExistsSync } from "../../store/files.ts";

/** Rotate when the current file would pass 10 MB. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Files kept, the current one included. */
export const LOG_FILES_KEPT = 5;

/** Every file of the log at `path`, oldest first (those that exist). */
export function rotatedLogPaths(path: string, keep: number = LOG_FILES_KEPT): string[] {
  const paths: string[] = [];
  for (let i = keep - 1; i >= 1; i--) {
    const p = `${path}.${i}`;
    if (pathExistsSync(p)) paths.push(p);
  }
  if (pathExistsSync(path)) paths.push(path);
  return paths;
}

/** Appends whole lines to a log file, rotating by size. Writes are synchronous and whole. */
export class RotatingLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  #file: Deno.FsFile | undefined;
  #size = 0;

  constructor(path: string, options: { maxBytes?: number; keep?: number } = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
    this.#keep = Math.max(1, options.keep ?? LOG_FILES_KEPT);
  }

  /** Creates the folder (0700) and opens the file for appending. */
  async open(): Promise<void> {
    await ensurePrivateDir(this.path.replace(/\/[^/]+$/, ""));
    this.#reopen();
  }

  #reopen(): void {
    this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o600 });
    this.#size = this.#file.statSync().size;
  }

  /** Appends `line` (a newline is added), rotating first when it would not fit. */
  write(line: string): void {
    if (!this.#file) this.#reopen();
    const bytes = new TextEncoder().encode(line.endsWith("\n") ? line : `${line}\n`);
    if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
    let written = 0;
    while (written < bytes.length) written += this.#file!.writeSync(bytes.subarray(written));
    this.#size += bytes.length;
  }

  #rotate(): void {
    this.#file?.close();
    this.#file = undefined;
    if (this.#keep === 1) {
      Deno.removeSync(this.path);
    } else {
      try {
        Deno.removeSync(`${this.path}.${this.#keep - 1}`);
      } catch { /* not there yet */ }
      for (let i = this.#keep - 2; i >= 1; i--) {
        try {
          Deno.renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch { /* not there yet */ }
      }
      Deno.renameSync(this.path, `${this.path}.1`);
    }
    this.#reopen();
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
