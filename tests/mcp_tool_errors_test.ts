/** Tool errors read exactly like datumctl's own error output, and carry the error as data. */
import assert from "node:assert/strict";
import { CliError, ExitCode } from "../lib/core/errors.ts";
import { formatError } from "../lib/ui/error-output.ts";
import { ERROR_META_KEY, toolError as toolErrorWith } from "../lib/mcp/server.ts";
import { ApplyFailure, readOnlyRefusal } from "../lib/mcp/tools.ts";

/** The tool error as `datumctl mcp` builds it, with datumctl's own error text. */
const toolError = (err: unknown) => toolErrorWith(err, (e) => formatError(e, "human"));

function text(result: ReturnType<typeof toolError>): string {
  const first = result.content[0];
  return first.type === "text" ? first.text : "";
}

Deno.test("a CliError becomes its message and hint, as datumctl prints them", () => {
  const err = new CliError("NOT_FOUND", 'httpproxies "web" not found', {
    hint: "Check the name and the context ('datumctl whoami').",
    retryable: false,
  });
  const result = toolError(err);
  assert.equal(result.isError, true);
  assert.equal(
    text(result),
    "error: httpproxies \"web\" not found\nCheck the name and the context ('datumctl whoami').",
  );
  assert.deepEqual(result._meta?.[ERROR_META_KEY], {
    code: "NOT_FOUND",
    message: 'httpproxies "web" not found',
    hint: "Check the name and the context ('datumctl whoami').",
    retryable: false,
  });
  assert.equal(result.structuredContent, undefined);
});

Deno.test("an unexpected error is reported as a datumctl bug, not a stack trace", () => {
  const result = toolError(new TypeError("x is undefined"));
  assert.match(text(result), /^error: x is undefined\nThis is a bug in datumctl/);
});

Deno.test("the read-only refusal names the flag and how to lift it", () => {
  const err = readOnlyRefusal("delete");
  assert.equal(err.exitCode, ExitCode.noPermission);
  assert.match(text(toolError(err)), /^error: delete is refused: .*--read-only\nRestart it/);
});

Deno.test("a partly failed apply lists what was applied and each failure", () => {
  const failure = new ApplyFailure(
    [{ ref: "httpproxy.networking/a", action: "created", dryRun: false, object: null }],
    [{ document: 2, error: new CliError("BAD_KIND", "no kind Nope", { hint: "Check it." }) }],
    2,
  );
  const result = toolError(failure);
  assert.equal(result.isError, true);
  assert.equal(
    text(result),
    "httpproxy.networking/a created\ndocument 2: error: no kind Nope\nCheck it.\n" +
      "error: 1 of 2 objects failed",
  );
  const meta = result._meta?.[ERROR_META_KEY] as { code: string; failures: unknown[] };
  assert.equal(meta.code, "PARTIAL_FAILURE");
  assert.equal(meta.failures.length, 1);
});
