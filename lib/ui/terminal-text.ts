/**
 * The one sanitiser for text shown to a person: every string that came from a server, a token,
 * a file or another machine passes through {@link sanitizeForTerminal} before it reaches a
 * terminal, so that data can never move the cursor, clear lines, set the window title, hide
 * text or reorder it. Structured output (`-o json|yaml`) does not come here: it stays exact.
 *
 * Escaped, each as a visible `\xNN` or `\uNNNN`: the C0 controls (tab and newline are kept only
 * where a field may span lines), DEL, the C1 controls (U+0080–U+009F: 8-bit CSI and OSC among
 * them), and the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069) that make text read differently from how it is stored. Everything else,
 * including all printable non-ASCII text, is left as it is.
 */

/** How much layout a field may carry. */
export interface TerminalTextOptions {
  /** Keep newlines and tabs (descriptions, multi-line messages); otherwise they are escaped too. */
  multiline?: boolean;
}

// Built from ranges so the source itself holds no invisible characters.
const BIDI = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";
const SINGLE_LINE_UNSAFE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${BIDI}]`, "g");
const MULTI_LINE_UNSAFE = new RegExp(
  `[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI}]`,
  "g",
);

function visibleEscape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control and bidirectional-control character replaced by a visible escape
 * (`ESC` → `\x1b`, U+202E → `\u202e`). Idempotent: its output contains none of them.
 */
export function sanitizeForTerminal(text: string, options: TerminalTextOptions = {}): string {
  const unsafe = options.multiline ? MULTI_LINE_UNSAFE : SINGLE_LINE_UNSAFE;
  // The common case, clean text, costs one scan and no allocation.
  unsafe.lastIndex = 0;
  if (!unsafe.test(text)) return text;
  unsafe.lastIndex = 0;
  return text.replace(unsafe, visibleEscape);
}

/** One line for a person: `text` sanitised as a single line, then a newline. */
export function terminalLine(text: string): string {
  return `${sanitizeForTerminal(text)}\n`;
}

/** A block of lines for a person: `text` sanitised keeping its newlines and tabs. */
export function terminalBlock(text: string): string {
  return sanitizeForTerminal(text, { multiline: true });
}
