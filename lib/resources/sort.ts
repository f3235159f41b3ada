/**
 * `get --sort-by=JSONPATH`: kubectl's ordering of listed objects by one field.
 *
 * Numbers compare as numbers, everything else as text (RFC 3339 timestamps sort in time order that
 * way); objects without the field come first, as kubectl sorts them.
 */
import { parseJsonPathExpression } from "./jsonpath.ts";
import { UsageError } from "../core/errors.ts";

/** A compiled `--sort-by` expression: the value it selects from one object. */
export interface SortKey {
  expression: string;
  valueOf(object: unknown): unknown;
}

/** Compiles `--sort-by` (`.metadata.name`, `{.spec.x}`, `metadata.creationTimestamp`). */
export function parseSortBy(expression: string): SortKey {
  let text = expression.trim();
  if (text === "") {
    throw new UsageError("--sort-by needs a JSONPath", "Example: --sort-by=.metadata.name");
  }
  if (text.startsWith("{") && text.endsWith("}")) text = text.slice(1, -1);
  if (!text.startsWith(".") && !text.startsWith("$")) text = `.${text}`;
  const path = parseJsonPathExpression(text);
  return {
    expression,
    valueOf: (object) => path.values(object)[0],
  };
}

function compare(a: unknown, b: unknown): number {
  const missingA = a === undefined || a === null;
  const missingB = b === undefined || b === null;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const ta = typeof a === "object" ? JSON.stringify(a) : String(a);
  const tb = typeof b === "object" ? JSON.stringify(b) : String(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/** A sorted copy of `items` by the value `key` selects from `objectOf(item)` (stable). */
export function sortByField<T>(items: T[], key: SortKey, objectOf: (item: T) => unknown): T[] {
  return items
    .map((item, index) => ({ item, index, value: key.valueOf(objectOf(item)) }))
    .sort((x, y) => compare(x.value, y.value) || x.index - y.index)
    .map((x) => x.item);
}
