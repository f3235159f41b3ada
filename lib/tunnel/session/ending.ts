/**
 * How a tunnel session ends, as events: the one conversion of a thrown error into the `error`
 * and `stopped` events that close every stream, shared by the session itself and by the
 * command that runs it (`tunnel listen`, `tunnel run`) for errors raised before it started.
 */
import { CliError, ExitCode, toCliError } from "../../core/errors.ts";
import type { StopReason, TunnelEvent } from "../events.ts";

/** How a session ended: the `stopped` event's reason and the exit code of the process. */
export interface SessionEnding {
  reason: StopReason;
  exitCode: number;
}

/** A clean stop (Ctrl-C/SIGTERM): exit 0. */
export const INTERRUPTED: SessionEnding = { reason: "interrupted", exitCode: ExitCode.ok };

/** The ending an error means: its code names the reason; anything but a `CliError` exits 1. */
export function endingOf(err: unknown): SessionEnding {
  const code = err instanceof CliError ? err.code : "";
  const reason: StopReason = code === "TUNNEL_DNS_OWNED_ELSEWHERE"
    ? "terminal_failure"
    : code === "TUNNEL_DELETED"
    ? "deleted_upstream"
    : code === "LOGIN_LOST"
    ? "login_lost"
    : code === "TUNNEL_SETUP_TIMEOUT"
    ? "timeout"
    : "error";
  return { reason, exitCode: err instanceof CliError ? err.exitCode : ExitCode.error };
}

/** The `error` event for the error that ends a session. */
export function errorEvent(err: CliError): TunnelEvent {
  return {
    type: "error",
    code: err.code,
    message: err.message,
    hint: err.hint,
    exit_code: err.exitCode,
    retryable: err.retryable,
  };
}

/** The `stopped` event, the last of every stream. */
export function stoppedEvent(ending: SessionEnding, disabled: boolean): TunnelEvent {
  return { type: "stopped", reason: ending.reason, exit_code: ending.exitCode, disabled };
}

/** `error` then `stopped` for an error that ended the run before the session could say so. */
export function failureEvents(err: unknown): [TunnelEvent, TunnelEvent] {
  const e = toCliError(err);
  return [errorEvent(e), stoppedEvent(endingOf(e), false)];
}
