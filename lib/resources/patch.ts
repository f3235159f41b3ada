/**
 * `patch`: a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902) sent to one object, as
 * `kubectl patch --type merge|json` does. Strategic merge patches are refused here: Datum's
 * resources are custom resources, which do not support them.
 */
import { parse as parseYaml } from "yaml";
import { UsageError } from "../core/errors.ts";
import type { ResourceType } from "./discovery.ts";
import { isPlainObject, type KubeObject } from "./objects.ts";
import { type ResourceClient, withTypeMeta } from "./operations.ts";

/** The patch formats `--type` takes. */
export type PatchType = "merge" | "json";

const CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

/** Validates `--type` (default `merge`). */
export function parsePatchType(value: string | undefined): PatchType {
  if (value === undefined || value === "merge" || value === "json") return value ?? "merge";
  if (value === "strategic") {
    throw new UsageError(
      "strategic merge patches are not supported by Datum's resources",
      "Use --type merge (the default) or --type json; lists are replaced whole by a merge patch.",
    );
  }
  throw new UsageError(`unknown patch type "${value}"`, "Use --type merge or --type json.");
}

/** Parses a patch given as JSON or YAML and checks its shape against the type. */
export function parsePatchText(text: string, type: PatchType): unknown {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new UsageError(
      `the patch is not JSON or YAML: ${err instanceof Error ? err.message.split("\n")[0] : err}`,
      `Example: -p '{"metadata":{"labels":{"team":"web"}}}'`,
    );
  }
  if (type === "merge" && !isPlainObject(value)) {
    throw new UsageError(
      "a merge patch must be an object",
      `Example: -p '{"spec":{"connectorClassName":"datum-connect"}}'`,
    );
  }
  if (type === "json") {
    const ops = Array.isArray(value) ? value : undefined;
    const valid = ops?.every((op) =>
      isPlainObject(op) && typeof op.op === "string" && typeof op.path === "string"
    );
    if (!ops || !valid) {
      throw new UsageError(
        "a JSON patch must be a list of operations with op and path",
        `Example: --type json -p '[{"op":"replace","path":"/spec/x","value":"y"}]'`,
      );
    }
  }
  return value;
}

/** Sends the patch and returns the object as the server stored it (or would, with `dryRun`). */
export async function patchObject(
  rc: ResourceClient,
  type: ResourceType,
  name: string,
  patch: unknown,
  options: { patchType: PatchType; namespace?: string; dryRun?: boolean },
): Promise<KubeObject> {
  const object = await rc.api.requestJson<KubeObject>("PATCH", rc.path(type, name, options), {
    body: patch,
    contentType: CONTENT_TYPES[options.patchType],
    query: { dryRun: options.dryRun ? "All" : undefined, fieldManager: "datumctl" },
  });
  return withTypeMeta(object, type);
}
