import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { type DetachedTunnel, readDetachedTunnel } from "./detach.ts";

Deno.test("the detached child reads back what the parent resolved", () => {
  const tunnel: DetachedTunnel = {
    name: "web",
    projectId: "p-1",
    session: "alice",
    repo: "/tmp/connect/web",
    endpoint: "localhost:8080",
    timeout: "10m",
    yes: false,
    allowPeer: ["a".repeat(64)],
  };
  assert.deepEqual(readDetachedTunnel(JSON.stringify(tunnel)), tunnel);
});

Deno.test("--daemon-child without the parent's description is a usage error", () => {
  for (const text of [undefined, "", "{", "[]", '{"name":"web"}']) {
    assert.throws(() => readDetachedTunnel(text), UsageError, String(text));
  }
});
