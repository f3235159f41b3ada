/**
 * What `diff -f` compares and how it shows it.
 *
 * The text is `diff -u` style with 3 lines of context (by jsdiff). Objects are compared without the
 * fields the server changes on every write (managedFields, resourceVersion, generation), so a no-op
 * apply compares equal. `KUBECTL_EXTERNAL_DIFF` is run with kubectl's protocol: LIVE and MERGED
 * folders.
 */
import { structuredPatch } from "diff";
import { CliError } from "../core/errors.ts";
import type { KubeObject } from "./objects.ts";

/**
 * A unified diff of `before` → `after` with `---`/`+++` headers naming the two sides; empty when
 * they are equal. The edit script is jsdiff's; hunk ranges are written as GNU diff does (`-3`
 * for one line, `-0,0` before the first line).
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { from: string; to: string },
  context = 3,
): string {
  if (before === after) return "";
  const patch = structuredPatch(labels.from, labels.to, before, after, undefined, undefined, {
    context,
  });
  if (patch.hunks.length === 0) return "";
  const range = (start: number, lines: number) => {
    const first = lines === 0 ? start - 1 : start;
    return lines === 1 ? `${first}` : `${first},${lines}`;
  };
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  for (const hunk of patch.hunks) {
    out += `@@ -${range(hunk.oldStart, hunk.oldLines)} +${
      range(hunk.newStart, hunk.newLines)
    } @@\n`;
    out += hunk.lines.map((line) => `${line}\n`).join("");
  }
  return out;
}

/** A copy of `object` without the fields every write changes (for `diff` and `apply`). */
export function comparableObject(object: KubeObject | undefined): KubeObject | undefined {
  if (!object) return undefined;
  const copy = structuredClone(object);
  if (copy.metadata) {
    delete copy.metadata.managedFields;
    delete copy.metadata.resourceVersion;
    delete copy.metadata.generation;
  }
  return copy;
}

/**
 * Runs `program` (a command line split on spaces) on a LIVE and a MERGED folder holding each
 * result's two sides, as kubectl does; returns its exit code and stdout (its stderr is the
 * terminal's). A program that cannot run is a `DIFF_FAILED` error with exit code 2.
 */
export async function externalDiff(
  program: string,
  results: { fileName: string; liveYaml: string; mergedYaml: string }[],
): Promise<{ code: number; stdout: string }> {
  const root = await Deno.makeTempDir({ prefix: "datumctl-diff-" });
  try {
    const live = `${root}/LIVE`;
    const merged = `${root}/MERGED`;
    await Deno.mkdir(live);
    await Deno.mkdir(merged);
    for (const r of results) {
      await Deno.writeTextFile(`${live}/${r.fileName}`, r.liveYaml);
      await Deno.writeTextFile(`${merged}/${r.fileName}`, r.mergedYaml);
    }
    const [command, ...args] = program.trim().split(/\s+/);
    const out = await new Deno.Command(command, {
      args: [...args, live, merged],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  } catch (err) {
    throw new CliError("DIFF_FAILED", `cannot run ${program}: ${(err as Error).message}`, {
      hint: "Check KUBECTL_EXTERNAL_DIFF, or unset it to use the built-in diff.",
      exitCode: 2,
    });
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
