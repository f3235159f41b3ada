/**
 * `edit`: one object as YAML in the person's editor, saved back as a merge patch that applies
 * only to the version that was edited (optimistic concurrency). A change the server rejects, or
 * YAML that does not parse, reopens the file with the reason at the top; an empty or unchanged
 * file cancels; saving the same rejected text twice gives up and keeps the file.
 *
 * The editor itself is the caller's (`lib/ui/editor.ts` for the CLI), so nothing here touches the
 * terminal.
 */
import { parse, stringify } from "yaml";
import { CliError, ExitCode } from "../core/errors.ts";
import type { ResourceType } from "./discovery.ts";
import type { KubeObject } from "./objects.ts";
import { mergePatch, type ResourceClient } from "./operations.ts";

const EDIT_HEADER = [
  "# Edit the object below and save to apply your changes; close the editor without saving,",
  "# or empty the file, to cancel. Lines starting with '#' are ignored. If the server rejects",
  "# the change, this file opens again with its reason at the top.",
  "#",
];

/** How an edit ended: saved, or cancelled with no change made. */
export interface EditOutcome {
  /** `kind.group/name` for the result line. */
  ref: string;
  edited: boolean;
}

function stripComments(text: string): string {
  return text.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
}

/**
 * Edits `name` through `openEditor` (which edits the file in place and returns when the person
 * is done) until the change is saved or cancelled.
 */
export async function editObject(
  rc: ResourceClient,
  type: ResourceType,
  name: string,
  options: { namespace?: string; openEditor: (file: string) => Promise<void> },
): Promise<EditOutcome> {
  const where = { namespace: options.namespace };
  const original = await rc.get(type, name, where);
  const ref = rc.ref(type, name);
  const dir = await Deno.makeTempDir({ prefix: "datumctl-edit-" });
  const file = `${dir}/${type.plural}-${name}.yaml`;
  let body = editableYaml(original);
  let problem: string | undefined;
  let lastFailed: string | undefined;
  let keepFile = false;
  try {
    for (;;) {
      const header = [...EDIT_HEADER];
      if (problem) {
        header.push(`# ${ref} was not saved:`, ...problem.split("\n").map((l) => `# * ${l}`), "#");
      }
      await Deno.writeTextFile(file, `${header.join("\n")}\n${body}`);
      await options.openEditor(file);
      const text = stripComments(await Deno.readTextFile(file));
      if (text.trim() === "") return { ref, edited: false };
      if (lastFailed !== undefined && text === lastFailed) {
        keepFile = true;
        throw new CliError("EDIT_FAILED", `${ref} was not saved: ${problem}`, {
          hint: `Your edited copy is in ${file}.`,
        });
      }
      let edited: KubeObject;
      try {
        edited = parse(text) as KubeObject;
        if (!edited || typeof edited !== "object") throw new Error("the document is not an object");
      } catch (err) {
        problem = `the YAML does not parse: ${(err as Error).message.split("\n")[0]}`;
        body = text;
        lastFailed = text;
        continue;
      }
      const before = parse(editableYaml(original));
      const patch = mergePatch(before, edited);
      if (Object.keys(patch).length === 0) return { ref, edited: false };
      // Optimistic concurrency: the patch only applies to the version that was edited.
      const meta = (patch.metadata ?? {}) as Record<string, unknown>;
      patch.metadata = { ...meta, resourceVersion: original.metadata?.resourceVersion };
      try {
        await rc.patch(type, name, patch, where);
        return { ref, edited: true };
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode === ExitCode.unavailable) throw err;
        problem = err.message;
        body = text;
        lastFailed = text;
      }
    }
  } finally {
    if (!keepFile) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** An object as the YAML `edit` opens, without managedFields (kubectl hides them too). */
export function editableYaml(object: KubeObject): string {
  const copy = structuredClone(object);
  if (copy.metadata) delete copy.metadata.managedFields;
  return stringify(copy, { indentSeq: false, lineWidth: 0 });
}
