import assert from "node:assert/strict";
import { parseDuration } from "./duration.ts";

Deno.test("durations in humantime style", () => {
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1h 30m"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("2min"), 120_000);
  assert.equal(parseDuration("45"), 45_000);
  for (const bad of ["", "ten minutes", "10x", "0s", "m"]) {
    assert.throws(() => parseDuration(bad), /duration|zero/);
  }
});
