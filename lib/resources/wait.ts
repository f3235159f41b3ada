/**
 * `wait`: block until objects reach a state, as `kubectl wait` does: a condition
 * (`--for=condition=Ready`, `…=False`), a JSONPath value (`--for=jsonpath={.status.phase}=Up`)
 * or deletion (`--for=delete`), within a deadline.
 *
 * The object is read once, then its watch is followed (and re-opened when the server ends it) until
 * the state holds or time runs out.
 */
import { ApiError } from "../api/errors.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { formatJsonPathValue, parseJsonPathExpression } from "./jsonpath.ts";
import type { ResourceType } from "./discovery.ts";
import { isPlainObject, type KubeObject } from "./objects.ts";
import type { ResourceClient } from "./operations.ts";

/** What `--for` asks for. */
export type WaitCondition =
  | { kind: "delete" }
  | { kind: "condition"; type: string; status: string }
  | { kind: "jsonpath"; expression: string; value?: string };

/** The deadline passed before the state was reached. */
export class WaitTimeoutError extends CliError {
  constructor(ref: string, what: string) {
    super("WAIT_TIMEOUT", `timed out waiting for ${what} on ${ref}`, {
      hint: "Give it longer with --timeout (e.g. --timeout=5m), or check 'datumctl describe'.",
      exitCode: ExitCode.tempFail,
      retryable: true,
    });
    this.name = "WaitTimeoutError";
  }
}

/** Parses `--for`: `delete`, `condition=TYPE[=STATUS]`, `jsonpath=EXPR[=VALUE]`. */
export function parseWaitFor(value: string): WaitCondition {
  if (value === "delete") return { kind: "delete" };
  if (value.startsWith("condition=")) {
    const [type, status = "True"] = value.slice("condition=".length).split("=");
    if (!type) throw badFor(value);
    return { kind: "condition", type, status };
  }
  if (value.startsWith("jsonpath=")) {
    const rest = value.slice("jsonpath=".length);
    // The expression ends at the `=` after its closing brace (or at the first `=` unbraced).
    const end = rest.startsWith("{") ? rest.indexOf("}") + 1 : rest.indexOf("=");
    const expression = end <= 0 ? rest : rest.slice(0, end);
    const tail = end <= 0 ? "" : rest.slice(end);
    if (!expression || (tail && !tail.startsWith("="))) throw badFor(value);
    parseJsonPathExpression(expression);
    return { kind: "jsonpath", expression, value: tail ? tail.slice(1) : undefined };
  }
  throw badFor(value);
}

function badFor(value: string): UsageError {
  return new UsageError(
    `invalid --for "${value}"`,
    "Use --for=condition=Ready, --for=condition=Ready=False, --for=delete or " +
      "--for=jsonpath='{.status.phase}'=Running.",
  );
}

/** Words for messages: `condition Ready=True`, `deletion`, `{.status.phase}=Running`. */
export function describeWait(condition: WaitCondition): string {
  switch (condition.kind) {
    case "delete":
      return "deletion";
    case "condition":
      return `condition ${condition.type}=${condition.status}`;
    case "jsonpath":
      return condition.value === undefined
        ? condition.expression
        : `${condition.expression}=${condition.value}`;
  }
}

/** Whether `object` is in the state `condition` asks for (deletion is decided by the caller). */
export function conditionHolds(condition: WaitCondition, object: KubeObject): boolean {
  if (condition.kind === "condition") {
    const status = isPlainObject(object.status) ? object.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions : [];
    return conditions.some((c) =>
      isPlainObject(c) && typeof c.type === "string" &&
      c.type.toLowerCase() === condition.type.toLowerCase() &&
      String(c.status).toLowerCase() === condition.status.toLowerCase()
    );
  }
  if (condition.kind === "jsonpath") {
    const values = parseJsonPathExpression(condition.expression).values(object);
    if (values.length === 0) return false;
    return condition.value === undefined ||
      values.some((v) => formatJsonPathValue(v) === condition.value);
  }
  return false;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.httpStatus === 404;
}

/**
 * Waits until the object `name` of `type` is in the state `condition` names, or throws
 * {@link WaitTimeoutError} at `deadline` (ms since the epoch). A missing object is a NotFound
 * error, except when waiting for its deletion (then it is done at once).
 */
export async function waitFor(
  rc: ResourceClient,
  type: ResourceType,
  name: string,
  condition: WaitCondition,
  deadline: number,
  options: { namespace?: string } = {},
): Promise<void> {
  const ref = rc.ref(type, name);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), Math.max(0, deadline - Date.now()));
  try {
    while (true) {
      let object: KubeObject | undefined;
      try {
        object = await rc.get(type, name, options);
      } catch (err) {
        if (condition.kind === "delete" && isNotFound(err)) return;
        throw err;
      }
      if (condition.kind !== "delete" && conditionHolds(condition, object)) return;
      if (timeout.signal.aborted) throw new WaitTimeoutError(ref, describeWait(condition));
      try {
        for await (
          const event of rc.watch(type, {
            namespace: options.namespace,
            name,
            resourceVersion: object.metadata?.resourceVersion,
            signal: timeout.signal,
          })
        ) {
          if (event.type === "BOOKMARK") continue;
          if (event.type === "DELETED") {
            if (condition.kind === "delete") return;
            break; // gone: the next read reports NotFound
          }
          if (condition.kind !== "delete" && conditionHolds(condition, event.object)) return;
        }
      } catch (err) {
        // 410 Gone: the version to watch from is too old; read again and watch from the new one.
        const gone = err instanceof ApiError && err.httpStatus === 410;
        if (!timeout.signal.aborted && !gone) throw err;
      }
      if (timeout.signal.aborted) throw new WaitTimeoutError(ref, describeWait(condition));
      // The server ended the watch (or the object went away): read again and watch on.
    }
  } finally {
    clearTimeout(timer);
  }
}
