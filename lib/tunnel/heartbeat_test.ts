import assert from "node:assert/strict";
import { leaseRenewTime, nextBackoffMs, renewDelaySeconds } from "./heartbeat.ts";

Deno.test("renewal happens at half the lease duration plus a whole-second jitter", () => {
  const seen = new Set<number>();
  for (const r of [0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.999]) seen.add(renewDelaySeconds(30, () => r));
  assert.deepEqual([...seen].sort((a, b) => a - b), [15, 16, 17, 18]);
  assert.equal(renewDelaySeconds(1, () => 0), 1);
  assert.equal(renewDelaySeconds(1, () => 0.99), 2);
  assert.equal(renewDelaySeconds(0, () => 0), 1);
  assert.equal(renewDelaySeconds(100, () => 0.999), 60);
});

Deno.test("back-off starts at 1 s and doubles to 60 s, the spec's numbers", () => {
  const steps: number[] = [];
  let b: number | undefined;
  for (let i = 0; i < 9; i++) steps.push(b = nextBackoffMs(b));
  assert.deepEqual(steps, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

Deno.test("renewTime is RFC 3339 with microseconds and Z", () => {
  assert.equal(leaseRenewTime(new Date("2026-06-07T19:10:30.123Z")), "2026-06-07T19:10:30.123000Z");
});
