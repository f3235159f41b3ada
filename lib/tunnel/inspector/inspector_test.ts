import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
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
