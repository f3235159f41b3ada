import assert from "node:assert/strict";
import { isSameProcessAlive, processStartToken } from "./process.ts";

Deno.test("the start token identifies a live process and fails for a finished one", async () => {
  const own = await processStartToken(Deno.pid);
  assert.ok(own, "this process has a start token");
  assert.equal(await isSameProcessAlive(Deno.pid, own), true);
  assert.equal(await isSameProcessAlive(Deno.pid, `${own}0`), false, "another start time");

  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const token = await processStartToken(child.pid);
  assert.ok(token);
  child.kill("SIGKILL");
  await child.status;
  assert.equal(await isSameProcessAlive(child.pid, token), false);
  assert.equal(await processStartToken(0), undefined);
});
