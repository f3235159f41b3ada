import assert from "node:assert/strict";
import { endpointFromArgument, formatTarget, normalizeEndpoint, parseTarget } from "./endpoint.ts";
import { UsageError } from "../core/errors.ts";

Deno.test("normalizeEndpoint trims and adds http:// only when there is no scheme", () => {
  assert.equal(normalizeEndpoint("  127.0.0.1:11434 "), "http://127.0.0.1:11434");
  assert.equal(normalizeEndpoint("localhost:8080"), "http://localhost:8080");
  assert.equal(normalizeEndpoint("http://localhost:8080"), "http://localhost:8080");
  assert.equal(normalizeEndpoint("https://svc:8443/x"), "https://svc:8443/x");
});

Deno.test("a bare port or :port argument means localhost", () => {
  assert.equal(endpointFromArgument("8080"), "http://localhost:8080");
  assert.equal(endpointFromArgument(":3000"), "http://localhost:3000");
  assert.equal(endpointFromArgument("10.0.0.5:80"), "http://10.0.0.5:80");
});

Deno.test("parseTarget accepts host:port, [v6]:port and URLs", () => {
  assert.deepEqual(parseTarget("localhost:8080"), { host: "localhost", port: 8080 });
  assert.deepEqual(parseTarget("http://127.0.0.1:11434/api"), { host: "127.0.0.1", port: 11434 });
  assert.deepEqual(parseTarget("[::1]:9000"), { host: "::1", port: 9000 });
  assert.deepEqual(parseTarget("http://[fd00::2]:80"), { host: "fd00::2", port: 80 });
  // datum-connect rejected an explicit default port (its URL parser dropped it); we keep it.
  assert.deepEqual(parseTarget("http://h:80"), { host: "h", port: 80 });
  assert.equal(formatTarget({ host: "::1", port: 9000 }), "[::1]:9000");
  assert.equal(formatTarget({ host: "localhost", port: 1 }), "localhost:1");
});

Deno.test("parseTarget needs an explicit, valid port and a supported scheme", () => {
  for (
    const bad of [
      "localhost",
      "http://localhost",
      "localhost:0",
      "localhost:70000",
      "::1:80",
      "ftp://h:21",
      "h:abc",
      ":80",
    ]
  ) {
    assert.throws(() => parseTarget(bad), UsageError, bad);
  }
  assert.throws(() => parseTarget("localhost"), /explicit port/);
});
