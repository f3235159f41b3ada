/**
 * Renders a thrown error for stderr: `error: <message>` and a hint for a person (sanitised for
 * the terminal), or one JSON line for `--error-format json`.
 */
import { toCliError } from "../core/errors.ts";
import { sanitizeForTerminal } from "./terminal-text.ts";

/** Error output formats selectable with `--error-format`. */
export type ErrorFormat = "human" | "json";

/**
 * Renders any thrown value as the lines written to stderr for the chosen format. Messages carry
 * server text (a Status message, an issuer's error_description), so the human form is sanitised
 * for the terminal; the JSON form, for programs, keeps the exact strings.
 */
export function formatError(err: unknown, format: ErrorFormat): string {
  const e = toCliError(err);
  if (format === "json") {
    const body: Record<string, unknown> = {
      code: e.code,
      message: e.message,
      retryable: e.retryable,
    };
    if (e.hint) body.hint = e.hint;
    if (e.details) body.details = e.details;
    return JSON.stringify({ error: body }) + "\n";
  }
  let text = `error: ${sanitizeForTerminal(e.message, { multiline: true })}\n`;
  if (e.hint) text += `${sanitizeForTerminal(e.hint, { multiline: true })}\n`;
  return text;
}
