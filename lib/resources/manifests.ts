/**
 * Reading `-f` arguments: files, directories (their `.yaml`, `.yml` and `.json` files, sorted),
 * and `-` for stdin, each holding one or more YAML or JSON documents; `kind: List` documents are
 * expanded into their items. Each manifest remembers where it came from, so an error can name the
 * file and the document.
 *
 * Manifests are untrusted input: each source is capped at {@link MAX_MANIFEST_BYTES}, parsing
 * is linear in the input (line numbers are computed only for an error), a YAML alias bomb is
 * refused as bad data (exit 65), and every name and namespace is checked before any request.
 */
import { parseAllDocuments } from "yaml";
import { MAX_NAME_LENGTH, MAX_NAMESPACE_LENGTH, resourceNameProblem } from "../api/urls.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { isPlainObject, type KubeObject } from "./objects.ts";

/** One object read from a manifest source. */
export interface Manifest {
  object: KubeObject;
  /** The file path, or `-` for stdin. */
  source: string;
  /** 1-based index of the document within its source. */
  document: number;
}

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];

function invalid(source: string, message: string, line?: number): CliError {
  return new CliError(
    "INVALID_MANIFEST",
    `cannot read ${source === "-" ? "stdin" : source}${line ? ` (line ${line})` : ""}: ${message}`,
    {
      hint: "Each document needs apiVersion, kind and metadata.name.",
      exitCode: ExitCode.dataError,
    },
  );
}

/** The largest manifest source read (one file, or stdin): 10 MiB. */
export const MAX_MANIFEST_BYTES = 10 * 1024 * 1024;

/** Aliases one document may expand; a "billion laughs" document needs far more. */
const MAX_ALIAS_COUNT = 100;

function tooLarge(source: string): CliError {
  return new CliError(
    "MANIFEST_TOO_LARGE",
    `${source === "-" ? "stdin" : source} is larger than ${
      MAX_MANIFEST_BYTES / 1024 / 1024
    } MiB, the most datumctl reads as one manifest`,
    {
      hint: "Split it into several files and pass a folder with -f.",
      exitCode: ExitCode.dataError,
    },
  );
}

/** 1-based line numbers of offsets in `text`, from an index built on first use. */
function lineFinder(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function refusedName(
  source: string,
  index: number,
  object: KubeObject,
  field: "name" | "namespace",
  problem: string,
  line?: number,
): UsageError {
  const value = String(object.metadata?.[field]);
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return new UsageError(
    `${source === "-" ? "stdin" : source}${
      line ? ` (line ${line})` : ""
    }: document ${index} (${object.kind}) has an invalid metadata.${field} ${shown}: ${problem}`,
    "Names are data, not paths: give the exact name of one object.",
  );
}

/**
 * Parses one source's text into manifests (multi-document YAML or JSON). Text longer than
 * {@link MAX_MANIFEST_BYTES} is refused; names and namespaces must be valid object names.
 */
export function parseManifests(text: string, source: string): Manifest[] {
  // A UTF-16 length above the cap means more bytes than the cap as UTF-8, too.
  if (text.length > MAX_MANIFEST_BYTES) throw tooLarge(source);
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) {
    // parseAllDocuments returns an EmptyStream for input with no documents at all.
    return out;
  }
  const lineAt = lineFinder(text);
  let index = 0;
  for (const doc of docs) {
    index++;
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      throw invalid(source, first.message.split("\n")[0], first.linePos?.[0]?.line);
    }
    const line = () => doc.contents?.range ? lineAt(doc.contents.range[0]) : undefined;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml package refuses alias expansion beyond maxAliasCount with a ReferenceError.
      const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw invalid(source, `document ${index} cannot be read: ${reason}`, line());
    }
    if (value === null || value === undefined) continue; // an empty document between `---`
    if (!isPlainObject(value)) {
      throw invalid(source, `document ${index} is not an object`, line());
    }
    const items = value.kind === "List" || (typeof value.kind === "string" &&
        value.kind.endsWith("List") && Array.isArray(value.items))
      ? (value.items as unknown[] ?? [])
      : [value];
    for (const item of items) {
      if (!isPlainObject(item)) {
        throw invalid(source, `document ${index} has a non-object item`, line());
      }
      const object = item as KubeObject;
      if (typeof object.apiVersion !== "string" || !object.apiVersion) {
        throw invalid(source, `document ${index} has no apiVersion`, line());
      }
      if (typeof object.kind !== "string" || !object.kind) {
        throw invalid(source, `document ${index} has no kind`, line());
      }
      const metadata = object.metadata;
      if (!metadata?.name && !metadata?.generateName) {
        throw invalid(source, `document ${index} (${object.kind}) has no metadata.name`, line());
      }
      for (const field of ["name", "namespace"] as const) {
        const v = metadata?.[field];
        if (v === undefined || (v === "" && field === "name")) continue; // generateName is set
        const problem = typeof v === "string"
          ? resourceNameProblem(v, field === "name" ? MAX_NAME_LENGTH : MAX_NAMESPACE_LENGTH)
          : "it must be a string";
        if (problem) throw refusedName(source, index, object, field, problem, line());
      }
      out.push({ object, source, document: index });
    }
  }
  return out;
}

async function filesOf(path: string, recursive: boolean): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `the path "${path}" does not exist`,
        "Pass a file, a folder or - for stdin.",
      );
    }
    throw err;
  }
  if (!info.isDirectory) return [path];
  const found: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    const child = `${path.replace(/\/+$/, "")}/${entry.name}`;
    if (entry.isDirectory) {
      if (recursive) found.push(...(await filesOf(child, true)));
    } else if (MANIFEST_EXTENSIONS.some((ext) => entry.name.endsWith(ext))) {
      found.push(child);
    }
  }
  return found.sort();
}

/** Options of {@link loadManifests}. */
export interface LoadOptions {
  /** Reads all of stdin (for `-`). */
  readStdin: () => Promise<string>;
  /** Descend into sub-folders (`-R`). */
  recursive?: boolean;
}

/** Reads every `-f` argument in order; an argument that yields nothing is an error. */
export async function loadManifests(paths: string[], options: LoadOptions): Promise<Manifest[]> {
  if (paths.length === 0) {
    throw new UsageError("no manifests given", "Pass -f FILE, -f FOLDER or -f - (stdin).");
  }
  const out: Manifest[] = [];
  for (const path of paths) {
    if (path === "-") {
      out.push(...parseManifests(await options.readStdin(), "-"));
      continue;
    }
    const files = await filesOf(path, options.recursive ?? false);
    let count = 0;
    for (const file of files) {
      if ((await Deno.stat(file)).size > MAX_MANIFEST_BYTES) throw tooLarge(file);
      const found = parseManifests(await Deno.readTextFile(file), file);
      count += found.length;
      out.push(...found);
    }
    if (count === 0) {
      throw new UsageError(
        `no objects found in ${path}`,
        "Manifests are .yaml, .yml or .json files.",
      );
    }
  }
  return out;
}

/**
 * Reads all of stdin (the IO's) as text, refusing more than {@link MAX_MANIFEST_BYTES} (it stops
 * reading at the cap instead of buffering whatever is piped in).
 */
export async function readAllStdin(stdin: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    total += chunk.byteLength;
    if (total > MAX_MANIFEST_BYTES) throw tooLarge("-");
    chunks.push(chunk);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
