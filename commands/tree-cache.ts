/**
 * `<cache>/command-tree.json`: the whole command tree as completion data and the root help as
 * commander printed it, so a TAB and `datumctl --help` answer without loading commander and
 * every command module (most of their start-up time).
 *
 * A run that had to load the whole tree (a TAB or `--help` the cache could not answer) writes
 * it. It is keyed by the version and a fingerprint of the program's files (the binary; from
 * source, every module's path, size and modification time), so an upgrade or an edited source
 * file makes it miss and be rebuilt, never answer for another program.
 */
import type { CommandTree } from "../lib/ui/completion.ts";
import type { IO } from "../lib/core/io.ts";
import { cacheDir } from "../lib/store/paths.ts";

/** What the cache holds. */
export interface TreeCache {
  key: string;
  tree?: CommandTree;
  /** Root help text by {@link helpWidthKey}. */
  help: Record<string, string>;
}

const SOURCE_ROOT = new URL("../", import.meta.url);
/**
 * What decides the command tree when running from source: the commands' modules declare every
 * name, flag and description. (lib/ is left out: stat'ing its two hundred files would cost a
 * TAB more than the rest of it; a lib constant shown in a flag's description may then be stale
 * in a source checkout's TAB descriptions until a file under commands/ changes.)
 */
const SOURCE_FILES = ["main.ts", "deno.json"];
const SOURCE_DIRS = ["commands"];

function cachePath(io: IO): string | undefined {
  try {
    return `${cacheDir((name) => io.env(name))}/command-tree.json`;
  } catch {
    return undefined;
  }
}

function statLine(path: string): string {
  try {
    const info = Deno.statSync(path);
    return `${path}:${info.size}:${info.mtime?.getTime() ?? ""}`;
  } catch {
    return `${path}:-`;
  }
}

function walkSource(dir: string, lines: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) walkSource(path, lines);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      lines.push(statLine(path));
    }
  }
}

/** The cache key: version, binary, and (from source) every module's path, size and mtime. */
export function programFingerprint(version: string): string {
  const lines = [version, statLine(Deno.execPath())];
  if (!Deno.build.standalone && SOURCE_ROOT.protocol === "file:") {
    const root = decodeURIComponent(SOURCE_ROOT.pathname).replace(/\/$/, "");
    for (const file of SOURCE_FILES) lines.push(statLine(`${root}/${file}`));
    for (const dir of SOURCE_DIRS) walkSource(`${root}/${dir}`, lines);
  }
  return lines.join("\n");
}

/** The key root help is kept under: commander wraps it to the terminal's width, else to 80. */
export function helpWidthKey(): string {
  if (!Deno.stdout.isTerminal()) return "80";
  try {
    return String(Deno.consoleSize().columns);
  } catch {
    return "80";
  }
}

/** The cache when it was written for this program, else undefined. */
export async function readTreeCache(io: IO, version: string): Promise<TreeCache | undefined> {
  const path = cachePath(io);
  if (!path) return undefined;
  let cached: TreeCache;
  try {
    cached = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
  if (typeof cached?.key !== "string" || typeof cached.help !== "object") return undefined;
  return cached.key === programFingerprint(version) ? cached : undefined;
}

/** Adds to the cache (starting afresh when it belongs to another program); best effort. */
export async function updateTreeCache(
  io: IO,
  version: string,
  change: (cache: TreeCache) => void,
): Promise<void> {
  const path = cachePath(io);
  if (!path) return;
  try {
    const key = programFingerprint(version);
    const current = await readTreeCache(io, version);
    const cache: TreeCache = current ?? { key, help: {} };
    change(cache);
    const { writePrivateFile } = await import("../lib/store/files.ts");
    await writePrivateFile(path, JSON.stringify(cache));
  } catch {
    // A cache that cannot be written only means the next TAB loads the whole tree again.
  }
}
