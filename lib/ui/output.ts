/**
 * Printers, kept apart from fetching (as kubectl does): JSON and YAML for programs (exact, never
 * sanitised), success lines for people. Tables are in table.ts. Commands hand data here and write
 * the returned string to stdout.
 */
import { loadedYaml } from "../yaml.ts";
import { UsageError } from "../core/errors.ts";
import type { IO } from "../core/io.ts";
import { sanitizeForTerminal } from "./terminal-text.ts";

/** Structured formats every listing command accepts with `-o`. */
export type StructuredFormat = "json" | "yaml";

/** Renders a value as pretty JSON or YAML, ending in a newline. */
export function renderStructured(value: unknown, format: StructuredFormat): string {
  if (format === "json") return JSON.stringify(value, null, 2) + "\n";
  return loadedYaml().stringify(value, { indentSeq: false, lineWidth: 0 });
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

/**
 * A success line: `✓ ` in front only where symbols are allowed (a TTY without NO_COLOR). `text`
 * may carry server data, so it is sanitised for the terminal.
 */
export function successLine(io: IO, text: string): string {
  return `${io.color ? "✓ " : ""}${sanitizeForTerminal(text)}\n`;
}
