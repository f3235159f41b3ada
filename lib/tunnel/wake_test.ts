import assert from "node:assert/strict";
import type { TunnelEvent } from "./events.ts";
import { suspensionMs, WakeDetector, WakeRecovery, wakeThresholdMs } from "./wake.ts";

Deno.test("a tick much later than scheduled is a suspension; small delays and clock steps back are not", () => {
  assert.equal(suspensionMs(0, 1_000, 1_000, 2_000), undefined);
  assert.equal(suspensionMs(0, 2_900, 1_000, 2_000), undefined);
  assert.equal(suspensionMs(0, 13_000, 1_000, 2_000), 12_000);
  assert.equal(suspensionMs(10_000, 5_000, 1_000, 2_000), undefined);
  // Half the Lease, between 2 s and 10 s.
  assert.deepEqual([4, 10, 30, 3600].map(wakeThresholdMs), [2_000, 5_000, 10_000, 10_000]);
});

Deno.test("the detector reports a jump of the wall clock between ticks", async () => {
  let clock = 1_000_000;
  const woke: number[] = [];
  const detector = new WakeDetector({
    onWake: (ms) => woke.push(ms),
    thresholdMs: () => 2_000,
    tickMs: 20,
    now: () => clock,
  });
  detector.start();
  try {
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(woke, [], "a clock that stands still is no wake");
    clock += 30_000;
    const until = Date.now() + 2_000;
    while (woke.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(woke.length, 1);
    assert.ok(woke[0] >= 28_000 && woke[0] <= 30_000, String(woke[0]));
  } finally {
    detector.stop();
  }
});

Deno.test("recovery renews first, then re-creates a missing advertisement, and says so", async () => {
  const events: TunnelEvent[] = [];
  const calls: string[] = [];
  let enabled = false;
  const recovery = new WakeRecovery({
    emit: (e) => events.push(e),
    refreshLogin: () => calls.push("login"),
    recoverHeartbeat: () => {
      calls.push("heartbeat");
      return Promise.resolve(true);
    },
    leaseSeconds: () => 4,
    tunnelId: () => "tunnel-abc",
    isEnabled: () => Promise.resolve(enabled),
    enable: () => {
      calls.push("enable");
      enabled = true;
      return Promise.resolve();
    },
  });
  await recovery.handle(12_400);
  assert.deepEqual(calls, ["login", "heartbeat", "enable"]);
  const warnings = events.map((e) => e.type === "warning" ? [e.code, e.message] : []);
  assert.equal(warnings[0][0], "woke_up");
  assert.match(warnings[0][1], /suspended for about 12s .*longer than its 4s Lease/);
  assert.equal(warnings[1][0], "reenabled");
  assert.match(warnings[1][1], /tunnel tunnel-abc re-enabled .*advertisement re-created/);

  // Already enabled: nothing to re-create.
  calls.length = 0;
  events.length = 0;
  await recovery.handle(3_000);
  assert.deepEqual(calls, ["login", "heartbeat"]);
  assert.doesNotMatch(String((events[1] as { message: string }).message), /re-created/);
});
