/**
 * The errors that end a tunnel session, each with its code, hint and exit code, and the framed
 * block shown when two Connectors claim this machine's key.
 */
import { ApiError } from "../../api/errors.ts";
import { CliError, ExitCode } from "../../core/errors.ts";
import type { TerminalFailure } from "../progress.ts";

/** Thrown inside a phase when the stop signal arrived: the session ends as interrupted. */
export class StopRequested extends Error {}

/** The milliseconds left until `deadline`. */
export function remainingMs(deadline: number): number {
  return deadline - Date.now();
}

/** Another Connector owns this machine's iroh DNS name: no retry helps (78). */
export function terminalError(failure: TerminalFailure, keyPath: string): CliError {
  const owner = failure.owner ? `Connector ${failure.owner}` : "another Connector";
  const ours = failure.resource ?? "this machine's Connector";
  return new CliError(
    "TUNNEL_DNS_OWNED_ELSEWHERE",
    `iroh DNS for this machine's tunnel key is owned by ${owner}, so ${ours} can never be reached (${failure.reason})`,
    {
      hint:
        `Delete ${keyPath} to start with a fresh identity (resume with --id to keep the hostname), or delete ${owner}.`,
      exitCode: ExitCode.config,
    },
  );
}

/** The framed block printed when a terminal failure appears while the tunnel runs. */
export function terminalFailureBlock(failure: TerminalFailure, keyPath: string): string[] {
  return [
    `Tunnel failed at step: ${failure.label}${failure.resource ? ` [${failure.resource}]` : ""}`,
    `  reason:  ${failure.reason}`,
    `  message: ${failure.message}`,
    `Two Connectors claim this machine's key. Delete ${keyPath} for a fresh identity, or delete ${
      failure.owner ? `Connector ${failure.owner}` : "the other Connector"
    }.`,
  ];
}

/** The login is gone (expired, revoked, a 401): the session stops (77). */
export function loginLostError(err: unknown): CliError {
  // The refresh's own error says which login and how to renew it; an API 401 says nothing more.
  const why = err instanceof CliError && !(err instanceof ApiError) ? err : undefined;
  return new CliError(
    "LOGIN_LOST",
    `Datum login has expired or been revoked; the tunnel was stopped${
      why ? ` (${why.message})` : ""
    }`,
    {
      hint: why?.hint
        ? `${why.hint.replace(/\.$/, "")}, then start the tunnel again.`
        : "Run 'datumctl login' to sign in again, then start the tunnel again.",
      exitCode: ExitCode.noPermission,
      cause: err,
    },
  );
}

/** The tunnel was deleted on the server while it was served (64). */
export function tunnelDeleted(id: string): CliError {
  return new CliError("TUNNEL_DELETED", `tunnel ${id} was deleted on the server`, {
    hint: "Start a new one with 'datumctl tunnel listen --endpoint HOST:PORT'.",
    exitCode: ExitCode.rejected,
  });
}

/** Setup did not finish within `--timeout` (75, retryable). */
export function setupTimeout(what: string, summary: string[] = []): CliError {
  return new CliError(
    "TUNNEL_SETUP_TIMEOUT",
    `the tunnel was not ready within --timeout: ${what}`,
    {
      hint: summary.length > 0
        ? summary.join("; ")
        : "Run again with a longer --timeout, or check the resources with 'datumctl describe'.",
      exitCode: ExitCode.tempFail,
      retryable: true,
    },
  );
}
