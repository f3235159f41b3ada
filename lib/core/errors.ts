/**
 * The typed errors every layer throws, and the exit codes they carry.
 *
 * `lib/` never prints or exits: it throws a {@link CliError} carrying a stable code, a message,
 * a hint and an exit code; `main.ts` renders it once (lib/ui/error-output.ts), in the format the
 * user asked for. Part of the floor: imports nothing else of datumctl.
 */

/** Exit codes shared by every command (see README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  /** Usage rejected on meaning, e.g. a name conflict (sysexits EX_USAGE). */
  rejected: 64,
  /** Malformed config file, manifest or server response, or one over its size cap (EX_DATAERR). */
  dataError: 65,
  /** Control plane unreachable or a network error; retryable (EX_UNAVAILABLE). */
  unavailable: 69,
  /** The tunnel exists but is still provisioning; retryable (EX_TEMPFAIL). */
  tempFail: 75,
  /** Not authenticated or not allowed (EX_NOPERM). */
  noPermission: 77,
  /** Configuration error (EX_CONFIG). */
  config: 78,
  interrupted: 130,
} as const;

/** Options accepted by {@link CliError}. */
export interface CliErrorOptions {
  hint?: string;
  exitCode?: number;
  retryable?: boolean;
  details?: string;
  cause?: unknown;
}

/** An error meant for the user: one sentence, a hint, a stable code and an exit code. */
export class CliError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: number;
  readonly retryable: boolean;
  readonly details?: string;

  constructor(code: string, message: string, options: CliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.error;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** A mistake in how the command was invoked: exit 2. */
export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super("USAGE", message, { hint, exitCode: ExitCode.usage });
    this.name = "UsageError";
  }
}

/** The user pressed Ctrl-C while we waited on them: exit 130. */
export class InterruptedError extends CliError {
  /** Stopped at a prompt: the person chose to, so there is nothing to explain (no error line). */
  readonly silent: boolean;

  constructor(message = "Aborted.", options: { silent?: boolean } = {}) {
    super("INTERRUPTED", message, { exitCode: ExitCode.interrupted });
    this.name = "InterruptedError";
    this.silent = options.silent ?? false;
  }
}

/** Wraps unexpected errors so that nothing reaches the user as a stack trace. */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof Error && err.name === "ExitPromptError") {
    return new InterruptedError(undefined, { silent: true });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CliError("INTERNAL", message || "unexpected failure", {
    hint: "This is a bug in datumctl; please report it with the command you ran.",
  });
}

/**
 * Ends a command with an exit status and no message, for results that are not errors
 * (e.g. `diff` found differences: exit 1). Everything has already been written.
 */
export class ExitStatus extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "ExitStatus";
    this.exitCode = exitCode;
  }
}
