import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { requestLineText } from "../../ui/tunnel.ts";
import { inspectSettings, parseBodyLimit, parseInspectAddress } from "./address.ts";
import { describeBody } from "./server.ts";

Deno.test("--inspect takes nothing, a port or a loopback host:port, and nothing else", () => {
  assert.deepEqual(parseInspectAddress(true), {
    hostname: "127.0.0.1",
    port: 4040,
    portIsDefault: true,
  });
  assert.deepEqual(parseInspectAddress("4100"), {
    hostname: "127.0.0.1",
    port: 4100,
    portIsDefault: false,
  });
  assert.equal(parseInspectAddress("localhost:4100").hostname, "127.0.0.1");
  assert.equal(parseInspectAddress("[::1]:4100").hostname, "::1");
  for (const bad of ["0.0.0.0:4040", "192.168.1.2:80", "example.com:4040", "70000", "x"]) {
    assert.throws(() => parseInspectAddress(bad), UsageError, bad);
  }
});

Deno.test("--inspect-body-limit reads KiB or a unit; 0 keeps headers only", () => {
  assert.equal(parseBodyLimit(undefined), 64 * 1024);
  assert.equal(parseBodyLimit("0"), 0);
  assert.equal(parseBodyLimit("16"), 16 * 1024);
  assert.equal(parseBodyLimit("512B"), 512);
  assert.equal(parseBodyLimit("1MiB"), 1024 * 1024);
  assert.throws(() => parseBodyLimit("lots"), UsageError);
  assert.throws(() => parseBodyLimit("17MiB"), UsageError);
  const settings = inspectSettings({ inspect: "4041", inspectShowSecrets: true });
  assert.deepEqual([settings.port, settings.showSecrets, settings.capacity], [4041, true, 500]);
});

Deno.test("bodies: UTF-8 is text (JSON marked), a cut character is dropped, binary is base64", () => {
  const text = describeBody(new TextEncoder().encode('{"a":1}'), false, 7);
  assert.deepEqual([text.encoding, text.text, text.json], ["text", '{"a":1}', true]);
  const cut = new TextEncoder().encode("héllo").subarray(0, 2); // "h" and half of "é"
  const partial = describeBody(cut, true, 6);
  assert.deepEqual([partial.encoding, partial.text, partial.json], ["text", "h", false]);
  const binary = describeBody(Uint8Array.of(0, 1, 2, 255), false, 4);
  assert.deepEqual([binary.encoding, binary.base64], ["binary", "AAEC/w=="]);
});

Deno.test("a request line fits the width and keeps control characters off the terminal", () => {
  const line = requestLineText(
    { method: "GET", path: "/a\x1b[31m" + "x".repeat(200), status: 200, duration_ms: 3.25 },
    60,
  );
  assert.equal(line.length, 60);
  assert.ok(!line.includes("\x1b"));
  assert.match(line, /^GET {5}\/a\?\[31mx+… 200 {4}3\.3 ms$/);
});
