import assert from "node:assert/strict";
import { z } from "zod";
import { stampEvent, TUNNEL_EVENTS_SCHEMA, type TunnelEvent } from "./events.ts";

const schemaFile = JSON.parse(
  await Deno.readTextFile(new URL("../../docs/tunnel-events.schema.json", import.meta.url)),
);
const validator = z.fromJSONSchema(schemaFile);
const ID = "ab".repeat(32);

/** One sample of every event type the lifecycle emits, with every optional field set. */
const SAMPLES: TunnelEvent[] = [
  {
    type: "identity",
    project: "infra",
    endpoint_id: ID,
    key_path: "/r/projects/infra/listen_key",
    key_origin: "migrated",
    relay_mode: "disabled",
  },
  { type: "phase", phase: "setup" },
  {
    type: "tunnel",
    action: "resumed",
    via: "only_candidate",
    id: "tunnel-x",
    label: "l",
    endpoint: "http://localhost:1",
    hostnames: ["h.example"],
  },
  {
    type: "step",
    step: "iroh_dns_published",
    label: "iroh DNS published",
    status: "pending",
    resource: "Connector/c",
    elapsed_secs: 1.2,
    reason: "Pending",
    message: "m",
  },
  {
    type: "step",
    step: "tunnel_accepted",
    label: "tunnel accepted",
    status: "unknown",
    resource: null,
    elapsed_secs: 0,
  },
  {
    type: "verify",
    side: "public",
    url: "https://h.example/",
    reachable: false,
    elapsed_secs: 10,
    http_status: 503,
    error: "e",
  },
  {
    type: "ready",
    id: "tunnel-x",
    label: "l",
    endpoint: "http://localhost:1",
    url: "https://h.example",
    hostnames: ["h.example"],
    endpoint_id: ID,
    elapsed_secs: 3.4,
  },
  {
    type: "stats",
    requests_total: 3,
    requests_active: 1,
    requests_denied: 0,
    origin_unreachable: 0,
    bytes_to_origin: 10,
    bytes_from_origin: 2000,
    denied_by_peer: [{ peer: ID, requests_denied: 1, connections_refused: 2 }],
  },
  { type: "request", method: "GET", path: "/a?b=1", status: 200, duration_ms: 1.5, peer: ID },
  { type: "path", peer: ID, path: "direct", remote_addr: "127.0.0.1:5", rtt_ms: 0.4 },
  {
    type: "warning",
    code: "step_pending",
    message: "m",
    step: "connector_ready",
    resource: "Connector/c",
  },
  { type: "error", code: "LOGIN_LOST", message: "m", hint: "h", exit_code: 77, retryable: false },
  { type: "stopped", reason: "login_lost", exit_code: 77, disabled: false },
];

Deno.test("every event type validates against docs/tunnel-events.schema.json, no undeclared keys", () => {
  const declared = schemaFile.$defs as Record<string, { properties: Record<string, unknown> }>;
  const types = new Set<string>();
  for (const sample of SAMPLES) {
    const line = JSON.parse(JSON.stringify(stampEvent(sample)));
    const result = validator.safeParse(line);
    assert.ok(result.success, `${sample.type}: ${JSON.stringify(result.error?.issues)}`);
    assert.equal(line.schema, TUNNEL_EVENTS_SCHEMA);
    for (const key of Object.keys(line)) {
      assert.ok(
        key in declared[sample.type].properties,
        `${sample.type}.${key} is not in the schema`,
      );
    }
    types.add(sample.type);
  }
  assert.deepEqual([...types].sort(), Object.keys(declared).sort());
});

Deno.test("the schema rejects what v1 does not allow", () => {
  const ok = stampEvent({ type: "phase", phase: "verify" });
  assert.ok(validator.safeParse(ok).success);
  assert.ok(!validator.safeParse({ ...ok, schema: "datumctl.tunnel.events/v2" }).success);
  assert.ok(!validator.safeParse({ ...ok, phase: "sleeping" }).success);
  assert.ok(!validator.safeParse({ ...ok, time: "yesterday" }).success);
  assert.ok(!validator.safeParse({ ...stampEvent(SAMPLES[6]), url: "http://h.example" }).success);
  const error = SAMPLES.find((e) => e.type === "error")!;
  const { exit_code: _dropped, ...missing } = stampEvent(error) as Record<string, unknown>;
  assert.ok(!validator.safeParse(missing).success);
});
