import assert from "node:assert/strict";
import { ExitCode, UsageError } from "../core/errors.ts";
import { memoryIO } from "../core/io.ts";
import { prompter } from "./prompter.ts";

Deno.test("without a terminal nothing is asked: a usage error names the flag that answers", async () => {
  const io = memoryIO();
  const withoutTerminal = { message: "this needs a terminal to confirm", hint: "Pass --yes." };
  const questions = [
    prompter(io).confirm({ message: "Relabel?", withoutTerminal }),
    prompter(io).select({
      message: "Which?",
      choices: [{ value: 1, name: "one" }],
      withoutTerminal,
    }),
    prompter(io).search({ message: "Which?", source: () => [], withoutTerminal }),
  ];
  for (const question of questions) {
    await assert.rejects(question, (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.equal(err.message, "this needs a terminal to confirm");
      assert.equal(err.hint, "Pass --yes.");
      return true;
    });
  }
  assert.equal(io.stderr, "", "no prompt was drawn");
});
