import assert from "node:assert/strict";
import { CliError, ExitCode } from "../../core/errors.ts";
import { endingOf, errorEvent, failureEvents, stoppedEvent } from "./ending.ts";

Deno.test("an error's code names the reason the session stopped; other errors exit 1", () => {
  const ending = (code: string, exitCode: number) =>
    endingOf(new CliError(code, "x", { exitCode }));
  assert.deepEqual(ending("TUNNEL_SETUP_TIMEOUT", 75), { reason: "timeout", exitCode: 75 });
  assert.deepEqual(ending("LOGIN_LOST", 77), { reason: "login_lost", exitCode: 77 });
  assert.deepEqual(ending("TUNNEL_DELETED", 64), { reason: "deleted_upstream", exitCode: 64 });
  assert.deepEqual(ending("TUNNEL_DNS_OWNED_ELSEWHERE", 78), {
    reason: "terminal_failure",
    exitCode: 78,
  });
  assert.deepEqual(ending("TUNNEL_RETARGETED", 64), { reason: "error", exitCode: 64 });
  assert.deepEqual(endingOf(new Error("boom")), { reason: "error", exitCode: ExitCode.error });
});

Deno.test("error and stopped events carry the error's code, hint, exit code and retryability", () => {
  const err = new CliError("TUNNEL_SETUP_TIMEOUT", "not ready", {
    hint: "wait longer",
    exitCode: ExitCode.tempFail,
    retryable: true,
  });
  assert.deepEqual(errorEvent(err), {
    type: "error",
    code: "TUNNEL_SETUP_TIMEOUT",
    message: "not ready",
    hint: "wait longer",
    exit_code: 75,
    retryable: true,
  });
  assert.deepEqual(stoppedEvent(endingOf(err), true), {
    type: "stopped",
    reason: "timeout",
    exit_code: 75,
    disabled: true,
  });
  const [error, stopped] = failureEvents(new CliError("CONFIG", "bad", { exitCode: 78 }));
  assert.equal(error.type === "error" && error.exit_code, 78);
  assert.deepEqual(stopped, { type: "stopped", reason: "error", exit_code: 78, disabled: false });
});
