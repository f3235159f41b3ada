/**
 * Printers, kept apart from fetching (as kubectl does): tables for people, JSON and YAML for
 * programs. Commands hand data here and write the returned string to stdout.
 */
import { loadedYaml } from "../yaml.ts";
import { UsageError } from "./errors.ts";
import type { IO } from "./io.ts";

/** Structured formats every listing command accepts with `-o`. */
export type StructuredFormat = "json" | "yaml";

/** Renders a value as pretty JSON or YAML, ending in a newline. */
export function renderStructured(value: unknown, format: StructuredFormat): string {
  if (format === "json") return JSON.stringify(value, null, 2) + "\n";
  return loadedYaml().stringify(value, { indentSeq: false, lineWidth: 0 });
}

/** Renders rows under upper-case headers with two-space gaps, as kubectl does. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => displayWidth(r[i] ?? "")))
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i] - displayWidth(c))))
      .join("   ")
      .trimEnd() + "\n";
  return line(headers) + rows.map(line).join("");
}

function displayWidth(text: string): number {
  return [...text].length;
}

/** Validates an `-o` value against the formats a command supports. */
export function parseOutputFormat<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(
    `unknown output format "${value}"`,
    `Use one of: ${allowed.join(", ")}.`,
  );
}

/** `-o json|yaml` of a command that prints text by default: the format, or undefined for text. */
export function parseStructuredOutput(value: string | undefined): StructuredFormat | undefined {
  return value === undefined
    ? undefined
    : parseOutputFormat(value, ["json", "yaml"] as const, "json");
}

/** `Label (id)` for people, or just the id when there is no label or it says the same. */
export function labelled(label: string | null | undefined, id: string): string {
  return label && label !== id ? `${label} (${id})` : id;
}

/** A success line: `✓ ` in front only where symbols are allowed (a TTY without NO_COLOR). */
export function successLine(io: IO, text: string): string {
  return `${io.color ? "✓ " : ""}${text}\n`;
}
