import assert from "node:assert/strict";
import { headlessReason } from "./headless.ts";

const probe = (env: Record<string, string>, os = "linux", files: string[] = []) => ({
  env: (n: string) => env[n],
  os,
  exists: (p: string) => files.includes(p),
});

Deno.test("SSH sessions, containers and display-less Linux are headless", () => {
  assert.match(headlessReason(probe({ SSH_CONNECTION: "1 2 3 4", DISPLAY: ":0" }))!, /SSH/);
  assert.match(headlessReason(probe({ DISPLAY: ":0" }, "linux", ["/.dockerenv"]))!, /container/);
  assert.match(
    headlessReason(probe({ DISPLAY: ":0" }, "linux", ["/run/.containerenv"]))!,
    /container/,
  );
  assert.match(headlessReason(probe({}))!, /no display/);
});

Deno.test("a desktop, macOS, or an explicit BROWSER is not headless", () => {
  assert.equal(headlessReason(probe({ WAYLAND_DISPLAY: "wayland-0" })), undefined);
  assert.equal(headlessReason(probe({}, "darwin")), undefined);
  assert.equal(headlessReason(probe({ BROWSER: "firefox", SSH_TTY: "/dev/pts/1" })), undefined);
});
