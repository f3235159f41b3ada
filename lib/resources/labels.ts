/**
 * `label` and `annotate`: kubectl's `key=value` / `key-` arguments applied to an object's
 * labels or annotations as a JSON merge patch.
 *
 * As kubectl does, changing a key that already has another value needs `overwrite`, and label keys
 * and values are checked against Kubernetes' syntax before anything is sent.
 */
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import type { KubeObject } from "./objects.ts";

/** Labels or annotations. */
export type MetadataField = "labels" | "annotations";

/** The changes asked for: keys to set and keys to remove. */
export interface MetadataChanges {
  set: Record<string, string>;
  remove: string[];
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function validKey(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

/** Parses `key=value` and `key-` arguments (labels are validated as Kubernetes does). */
export function parseMetadataChanges(args: string[], field: MetadataField): MetadataChanges {
  const changes: MetadataChanges = { set: {}, remove: [] };
  const noun = field === "labels" ? "label" : "annotation";
  for (const arg of args) {
    const eq = arg.indexOf("=");
    let key: string;
    if (eq < 0 && arg.endsWith("-")) {
      key = arg.slice(0, -1);
      changes.remove.push(key);
    } else if (eq > 0) {
      key = arg.slice(0, eq);
      const value = arg.slice(eq + 1);
      if (field === "labels" && !LABEL_VALUE.test(value)) {
        throw new UsageError(
          `invalid label value "${value}" for ${key}`,
          "Label values are at most 63 letters, digits, '-', '_' or '.', starting and ending " +
            "with a letter or digit.",
        );
      }
      changes.set[key] = value;
    } else {
      throw new UsageError(
        `"${arg}" is not key=value or key-`,
        `Example: datumctl ${noun === "label" ? "label" : "annotate"} connectors c1 team=web old-`,
      );
    }
    if (!validKey(key)) {
      throw new UsageError(
        `invalid ${noun} key "${key}"`,
        "Keys are [prefix/]name: a DNS prefix, then at most 63 letters, digits, '-', '_' or '.'.",
      );
    }
    if (key in changes.set && changes.remove.includes(key)) {
      throw new UsageError(`${noun} ${key} is both set and removed`);
    }
  }
  if (Object.keys(changes.set).length === 0 && changes.remove.length === 0) {
    throw new UsageError(
      `no ${noun}s to change`,
      `Give key=value to set a ${noun} or key- to remove one.`,
    );
  }
  return changes;
}

/**
 * The merge patch that applies `changes` to `object`'s labels or annotations, or `undefined`
 * when nothing would change. A key with another value needs `overwrite`.
 */
export function metadataPatch(
  object: KubeObject,
  field: MetadataField,
  changes: MetadataChanges,
  options: { overwrite?: boolean; ref: string },
): Record<string, unknown> | undefined {
  const current = object.metadata?.[field] ?? {};
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(changes.set)) {
    if (current[key] === value) continue;
    if (key in current && !options.overwrite) {
      throw new CliError(
        "ALREADY_SET",
        `'${key}' already has a value (${
          current[key]
        }) on ${options.ref}, and --overwrite is false`,
        { hint: "Add --overwrite to replace it.", exitCode: ExitCode.rejected },
      );
    }
    patch[key] = value;
  }
  for (const key of changes.remove) if (key in current) patch[key] = null;
  if (Object.keys(patch).length === 0) return undefined;
  // The resourceVersion makes the patch fail with a conflict if someone changed the object since.
  return {
    metadata: { [field]: patch, resourceVersion: object.metadata?.resourceVersion },
  };
}
