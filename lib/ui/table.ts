/**
 * Aligned text tables for people: every cell is sanitised ({@link sanitizeForTerminal}) and
 * measured in terminal columns, so CJK text and emoji (two columns each) keep the columns
 * straight.
 *
 * Widths come from the `string-width` package, which is loaded only when a table holds text
 * beyond printable ASCII (where a character is one column); most tables never load it, and
 * nothing on the `--version`/`--help`/`auth get-token` path does.
 */
import { sanitizeForTerminal } from "./terminal-text.ts";

/** The number of terminal columns a (sanitised) string takes. */
export type WidthOf = (text: string) => number;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const asciiWidth: WidthOf = (text) => text.length;
let unicodeWidth: WidthOf | undefined;

/** A width function good for all of `texts`: ASCII is counted, anything else measured. */
export async function measurer(texts: Iterable<string>): Promise<WidthOf> {
  if (unicodeWidth) return unicodeWidth;
  for (const text of texts) {
    if (!PRINTABLE_ASCII.test(text)) {
      // A computed specifier: a literal one makes every command that can print a table
      // resolve the npm package as it starts (`deno run` reads literal `import()`s up front).
      const specifier = "string-width";
      const { default: stringWidth } = await import(specifier) as typeof import("string-width");
      unicodeWidth = (t) => stringWidth(t);
      return unicodeWidth;
    }
  }
  return asciiWidth;
}

function sanitizeRow(cells: string[]): string[] {
  return cells.map((c) => sanitizeForTerminal(c));
}

function lineOf(cells: string[], widths: number[], widthOf: WidthOf): string {
  return cells
    .map((c, i) => i === cells.length - 1 ? c : c + " ".repeat(Math.max(0, widths[i] - widthOf(c))))
    .join("   ")
    .trimEnd() + "\n";
}

/** How {@link renderTable} prints. */
export interface TableOptions {
  /** Leave out the header line (`--no-headers`); the columns keep the headers' widths. */
  noHeaders?: boolean;
}

/** Renders rows under headers with three-space gaps, as kubectl does. */
export async function renderTable(
  headers: string[],
  rows: string[][],
  options: TableOptions = {},
): Promise<string> {
  const safeHeaders = sanitizeRow(headers);
  const safeRows = rows.map(sanitizeRow);
  const widthOf = await measurer([...safeHeaders, ...safeRows.flat()]);
  const widths = safeHeaders.map((h, i) =>
    Math.max(widthOf(h), ...safeRows.map((r) => widthOf(r[i] ?? "")))
  );
  return (options.noHeaders ? "" : lineOf(safeHeaders, widths, widthOf)) +
    safeRows.map((r) => lineOf(r, widths, widthOf)).join("");
}

/** Column widths of a header and rows, for rows printed later under the same header (watch). */
export async function columnWidths(headers: string[], rows: string[][]): Promise<number[]> {
  const safeHeaders = sanitizeRow(headers);
  const safeRows = rows.map(sanitizeRow);
  const widthOf = await measurer([...safeHeaders, ...safeRows.flat()]);
  return safeHeaders.map((h, i) =>
    Math.max(widthOf(h), ...safeRows.map((r) => widthOf(r[i] ?? "")))
  );
}

/** One table line padded to `widths` (widened in place when a cell is wider), as renderTable lays out. */
export async function alignedRow(cells: string[], widths: number[]): Promise<string> {
  const safe = sanitizeRow(cells);
  const widthOf = await measurer(safe);
  safe.forEach((c, i) => {
    widths[i] = Math.max(widths[i] ?? 0, widthOf(c));
  });
  return lineOf(safe, widths, widthOf);
}
