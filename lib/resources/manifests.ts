/**
 * Reading `-f` arguments: files, directories (their `.yaml`, `.yml` and `.json` files, sorted),
 * and `-` for stdin, each holding one or more YAML or JSON documents; `kind: List` documents are
 * expanded into their items.
 *
 * Exports {@link loadManifests} and {@link parseManifests}; both return {@link Manifest}s that
 * remember where they came from so an error can name the file and the document.
 */
import { parseAllDocuments } from "yaml";
import { CliError, ExitCode, UsageError } from "../ui/errors.ts";
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

/** Parses one source's text into manifests (multi-document YAML or JSON). */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) {
    // parseAllDocuments returns an EmptyStream for input with no documents at all.
    return out;
  }
  let index = 0;
  for (const doc of docs) {
    index++;
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      throw invalid(source, first.message.split("\n")[0], first.linePos?.[0]?.line);
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue; // an empty document between `---`
    if (!isPlainObject(value)) {
      const line = doc.contents?.range ? lineAt(text, doc.contents.range[0]) : undefined;
      throw invalid(source, `document ${index} is not an object`, line);
    }
    const items = value.kind === "List" || (typeof value.kind === "string" &&
        value.kind.endsWith("List") && Array.isArray(value.items))
      ? (value.items as unknown[] ?? [])
      : [value];
    for (const item of items) {
      const line = doc.contents?.range ? lineAt(text, doc.contents.range[0]) : undefined;
      if (!isPlainObject(item)) {
        throw invalid(source, `document ${index} has a non-object item`, line);
      }
      const object = item as KubeObject;
      if (typeof object.apiVersion !== "string" || !object.apiVersion) {
        throw invalid(source, `document ${index} has no apiVersion`, line);
      }
      if (typeof object.kind !== "string" || !object.kind) {
        throw invalid(source, `document ${index} has no kind`, line);
      }
      if (!object.metadata?.name && !object.metadata?.generateName) {
        throw invalid(source, `document ${index} (${object.kind}) has no metadata.name`, line);
      }
      out.push({ object, source, document: index });
    }
  }
  return out;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
  return line;
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

/** Reads all of the process's stdin as text. */
export async function readAllStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}
