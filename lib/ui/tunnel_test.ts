import assert from "node:assert/strict";
import { memoryIO } from "../core/io.ts";
import {
  pickerRow,
  renderTunnelList,
  requestLineText,
  statusLineText,
  TunnelEventRenderer,
} from "./tunnel.ts";
import type { TunnelSummary } from "../tunnel/tunnel-api.ts";

const summary: TunnelSummary = {
  id: "tunnel-gchhg",
  label: "web",
  endpoint: "http://localhost:8080",
  hostnames: ["ground-pearl.datumproxy.net"],
  enabled: true,
  accepted: true,
  programmed: true,
  state: "ready",
  connector: "datum-connect-x",
};

Deno.test("tunnel list text matches datum-connect's layout", () => {
  assert.equal(
    renderTunnelList([summary, {
      ...summary,
      id: "tunnel-b",
      enabled: false,
      state: "pending",
      hostnames: [],
    }]),
    "tunnel-gchhg [ready] web -> http://localhost:8080\n  hostname: ground-pearl.datumproxy.net\n  status: enabled, ready\n" +
      "tunnel-b [disabled] web -> http://localhost:8080\n  hostname: (none yet)\n  status: disabled, not serving ('datumctl tunnel listen --id tunnel-b' resumes it)\n",
  );
  assert.equal(renderTunnelList([]), "No tunnels found.\n");
  assert.equal(
    pickerRow(summary, true),
    "ground-pearl.datumproxy.net → http://localhost:8080 [web]",
  );
  assert.equal(
    pickerRow({ ...summary, enabled: false }, true),
    "○ ground-pearl.datumproxy.net → http://localhost:8080 [web]",
  );
});

Deno.test("human rendering: checklist on stderr, ready URL on stdout, framed terminal failure", () => {
  const io = memoryIO();
  const r = new TunnelEventRenderer(io, { json: false });
  r.render({
    type: "identity",
    project: "p",
    endpoint_id: "ab".repeat(32),
    key_path: "/k",
    key_origin: "existing",
    relay_mode: "datum",
  });
  r.render({ type: "phase", phase: "setup" });
  r.render({
    type: "step",
    step: "tunnel_accepted",
    label: "tunnel accepted",
    status: "ready",
    resource: "HTTPProxy/tunnel-gchhg",
    elapsed_secs: 0.1,
  });
  r.render({
    type: "step",
    step: "connector_ready",
    label: "connector ready",
    status: "pending",
    resource: "Connector/c",
    elapsed_secs: 0.1,
  });
  r.render({
    type: "warning",
    code: "quota_check_retry",
    message: "… quota check timed out for create HTTPProxy; retrying for up to 15s",
  });
  r.render({
    type: "verify",
    side: "origin",
    url: "http://127.0.0.1:11434",
    reachable: false,
    elapsed_secs: 10,
    error: "connection refused",
  });
  r.render({
    type: "verify",
    side: "public",
    url: "https://h/",
    reachable: true,
    elapsed_secs: 0.4,
    http_status: 200,
  });
  r.render({
    type: "ready",
    id: "tunnel-gchhg",
    label: "l",
    endpoint: "e",
    url: "https://h",
    hostnames: ["h"],
    endpoint_id: "ab".repeat(32),
    elapsed_secs: 4.6,
  });
  r.render({ type: "warning", code: "terminal_failure", message: "line one\nline two" });
  r.render({ type: "phase", phase: "disabling" });
  r.render({ type: "phase", phase: "disabled" });
  assert.equal(io.stdout, "Tunnel ready after 5 sec: https://h\n");
  const rule = "=".repeat(72);
  assert.equal(
    io.stderr,
    [
      `Your endpoint ID: ${"ab".repeat(32)}`,
      "Setting up tunnel...",
      "  tunnel accepted (0.1s) [HTTPProxy/tunnel-gchhg]",
      "… quota check timed out for create HTTPProxy; retrying for up to 15s",
      "  … origin not reachable (10s) [http://127.0.0.1:11434]: connection refused",
      "  proxy responding (0.4s) [https://h/]: HTTP 200",
      "Press Ctrl+C to stop...",
      rule,
      "line one",
      "line two",
      rule,
      "Disabling tunnel...",
      "Tunnel disabled.",
      "",
    ].join("\n"),
  );
});

Deno.test("JSON rendering writes stamped lines on stdout only", () => {
  const io = memoryIO();
  const r = new TunnelEventRenderer(io, { json: true });
  r.render({ type: "phase", phase: "verify" });
  const line = JSON.parse(io.stdout);
  assert.equal(line.schema, "datumctl.tunnel.events/v1");
  assert.equal(line.type, "phase");
  assert.equal(io.stderr, "");
});

Deno.test("the status line shows requests, bytes and the path with RTT", () => {
  assert.equal(
    statusLineText({
      bytesToOrigin: 512,
      bytesFromOrigin: 5 * 1024 * 1024,
      streamsTotal: 12,
      streamsActive: 1,
      streamsDenied: 0,
      originUnreachable: 0,
      peers: [{ endpointId: "x", path: "direct", rttMs: 0.42 }],
    }),
    "12 requests (1 active) · 512 B in · 5.0 MiB out · direct 0.4 ms",
  );
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
