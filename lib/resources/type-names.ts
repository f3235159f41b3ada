/**
 * Resource type names for `get <TAB>`, read from the discovery documents other commands cached
 * on disk (no network: TAB must answer at once). Before any resource command has run there is
 * no cache, and only the types every login has are offered.
 */
import { cacheDir } from "../store/paths.ts";
import type { DiscoveryDocument } from "./discovery.ts";

/** The types every login can list, cached or not. */
const ALWAYS = ["organizations", "projects"];

/** Plurals (with their kind as description) of every preferred type in the discovery cache. */
export async function cachedTypeNames(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<{ value: string; description: string }[]> {
  const found = new Map<string, string>(ALWAYS.map((n) => [n, ""]));
  const root = `${cacheDir(env)}/discovery`;
  try {
    for await (const host of Deno.readDir(root)) {
      if (!host.isDirectory) continue;
      for await (const file of Deno.readDir(`${root}/${host.name}`)) {
        if (!file.isFile || !file.name.endsWith(".json")) continue;
        try {
          const doc = JSON.parse(
            await Deno.readTextFile(`${root}/${host.name}/${file.name}`),
          ) as DiscoveryDocument;
          for (const type of doc.resources ?? []) {
            if (type.preferred && !type.plural.includes("/") && type.verbs.includes("list")) {
              found.set(type.plural, type.kind);
            }
          }
        } catch { /* a damaged cache file offers nothing */ }
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return [...found].map(toCandidate);
  }
  return [...found].sort(([a], [b]) => a.localeCompare(b)).map(toCandidate);
}

function toCandidate([value, description]: [string, string]) {
  return { value, description };
}
