/**
 * The person's editor for `datumctl edit`: `KUBE_EDITOR`, else `EDITOR`, else `vi` on a terminal.
 *
 * Without a terminal and without either variable it fails at once naming them, instead of starting
 * an editor nobody can see.
 */
import type { IO } from "../core/io.ts";
import { CliError, UsageError } from "../core/errors.ts";

/** Opens `file` in the editor on this terminal and waits until it exits. */
export async function openInEditor(io: IO, file: string): Promise<void> {
  const editor = io.env("KUBE_EDITOR") || io.env("EDITOR") || (io.stdinIsTTY ? "vi" : undefined);
  if (!editor) {
    throw new UsageError(
      "edit needs an editor and there is no terminal",
      "Set KUBE_EDITOR or EDITOR to a command that edits a file in place.",
    );
  }
  const status = await new Deno.Command("sh", {
    args: ["-c", `${editor} "$1"`, "sh", file],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) {
    throw new CliError("EDITOR_FAILED", `the editor (${editor}) exited with code ${status.code}`, {
      hint: "Your changes were not applied.",
    });
  }
}
