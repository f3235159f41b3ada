import assert from "node:assert/strict";
import { decideTarget, isLoopbackHost } from "./targets.ts";

Deno.test("loopback is localhost, 127/8 and ::1 only", () => {
  for (
    const h of [
      "localhost",
      "LOCALHOST",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "0:0:0:0:0:0:0:1",
    ]
  ) {
    assert.equal(isLoopbackHost(h), true, h);
  }
  for (
    const h of [
      "0.0.0.0",
      "10.0.0.1",
      "192.168.1.5",
      "::",
      "fe80::1",
      "example.com",
      "localhost.evil.com",
      "128.0.0.1",
    ]
  ) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});

Deno.test("a differing server target needs a yes on the terminal, and shows both", async () => {
  const asked: string[] = [];
  const decide = (answer: boolean, interactive = true) =>
    decideTarget({
      tunnelId: "tunnel-a",
      serverEndpoint: "http://127.0.0.1:9999",
      localRecord: { host: "localhost", port: 3000 },
      interactive,
      confirm: (q) => {
        asked.push(q);
        return Promise.resolve(answer);
      },
    });
  const yes = await decide(true);
  assert.deepEqual([yes.host, yes.port, yes.source], ["127.0.0.1", 9999, "confirmed"]);
  assert.match(
    asked[0],
    /forwards to 127\.0\.0\.1:9999 on the server, but this machine last served it as localhost:3000/,
  );
  await assert.rejects(decide(false), (e: Error & { exitCode?: number }) => e.exitCode === 64);
  await assert.rejects(decide(true, false), /give the target with --endpoint/);
  assert.equal(asked.length, 2, "no question without a terminal");
});

Deno.test("a matching local record needs no question; beyond loopback is never confirmed", async () => {
  const never = () => Promise.reject(new Error("asked"));
  const same = await decideTarget({
    tunnelId: "t",
    serverEndpoint: "http://localhost:3000",
    localRecord: { host: "localhost", port: 3000 },
    interactive: true,
    confirm: never,
  });
  assert.equal(same.source, "local_record");
  await assert.rejects(
    decideTarget({
      tunnelId: "t",
      serverEndpoint: "http://10.0.0.1:80",
      localRecord: { host: "10.0.0.1", port: 80 },
      interactive: true,
      confirm: never,
    }),
    /not this machine \(loopback\)/,
  );
});
