import assert from "node:assert/strict";
import {
  conditionState,
  progressSnapshot,
  ProgressTracker,
  STALL_WARNING_MS,
  terminalFailure,
} from "./progress.ts";
import type { Condition, Connector, HTTPProxy } from "./resources.ts";

function cond(type: string, status: string, observedGeneration?: number, reason = "R"): Condition {
  return { type, status, observedGeneration, reason, message: `${type} is ${status}` };
}

function proxy(generation: number, conditions: Condition[], hostnames: string[] = []): HTTPProxy {
  return {
    metadata: { name: "tunnel-gchhg", generation },
    status: { conditions, hostnames },
  };
}

function connector(conditions: Condition[]): Connector {
  return { metadata: { name: "datum-connect-x", generation: 1 }, status: { conditions } };
}

Deno.test("a True condition is ready only once observedGeneration caught up", () => {
  assert.equal(conditionState([cond("Accepted", "True", 1)], "Accepted", 2), "pending");
  assert.equal(conditionState([cond("Accepted", "True", 2)], "Accepted", 2), "ready");
  assert.equal(conditionState([cond("Accepted", "True", 3)], "Accepted", 2), "ready");
  assert.equal(conditionState([cond("Accepted", "True")], "Accepted", 1), "pending");
  assert.equal(conditionState([cond("Accepted", "True")], "Accepted", undefined), "ready");
  assert.equal(conditionState([cond("Accepted", "False", 5)], "Accepted", 1), "pending");
  assert.equal(conditionState([], "Accepted", 1), "unknown");
});

Deno.test("the six steps carry [Kind/name]; an absent metadata condition counts as ready", () => {
  const all = ["Accepted", "CertificatesReady", "Programmed"].map((t) => cond(t, "True", 2));
  const snap = progressSnapshot(
    proxy(2, all, ["ground-pearl.datumproxy.net"]),
    connector([cond("Ready", "True", 1), cond("IrohDNSPublished", "True", 1)]),
  );
  assert.deepEqual(snap.steps.map((s) => [s.label, s.status, s.resource]), [
    ["tunnel accepted", "ready", "HTTPProxy/tunnel-gchhg"],
    ["TLS certificate issued", "ready", "HTTPProxy/tunnel-gchhg"],
    ["connector ready", "ready", "Connector/datum-connect-x"],
    ["iroh DNS published", "ready", "Connector/datum-connect-x"],
    ["route programmed", "ready", "HTTPProxy/tunnel-gchhg"],
    ["envoy metadata propagated", "ready", "HTTPProxy/tunnel-gchhg"],
  ]);
  assert.equal(snap.done, true);
  // No hostname yet: not done.
  assert.equal(
    progressSnapshot(
      proxy(2, all),
      connector([cond("Ready", "True", 1), cond("IrohDNSPublished", "True", 1)]),
    ).done,
    false,
  );
  // Present but stale metadata condition: pending.
  const stale = progressSnapshot(
    proxy(3, [
      ...all.map((c) => ({ ...c, observedGeneration: 3 })),
      cond("ConnectorMetadataProgrammed", "True", 2),
    ], ["h"]),
    connector([cond("Ready", "True", 1), cond("IrohDNSPublished", "True", 1)]),
  );
  assert.equal(stale.steps[5].status, "pending");
  assert.equal(stale.done, false);
  // Unknown connector: its steps are unknown.
  assert.equal(progressSnapshot(proxy(1, []), undefined).steps[2].status, "unknown");
});

Deno.test("DeferredToOwner is terminal and names the owning Connector", () => {
  const failure = terminalFailure(connector([{
    type: "IrohDNSPublished",
    status: "False",
    reason: "DeferredToOwner",
    message: "iroh DNS record is owned by Connector prod/default/datum-connect-abc (uid 123)",
  }]));
  assert.equal(failure?.owner, "prod/default/datum-connect-abc");
  assert.equal(failure?.resource, "Connector/datum-connect-x");
  assert.equal(
    terminalFailure(connector([cond("IrohDNSPublished", "False", 1, "Pending")])),
    undefined,
  );
  assert.equal(terminalFailure(undefined), undefined);
});

Deno.test("the tracker reports each ready transition once and a stall once per step", () => {
  const tracker = new ProgressTracker(0);
  const pendingAll = progressSnapshot(
    proxy(1, [cond("Accepted", "Unknown", 0, "Pending")]),
    undefined,
  );
  let t = tracker.observe(pendingAll, 100);
  assert.ok(t.every((x) => x.kind === "status"));
  assert.equal(tracker.observe(pendingAll, 200).length, 0);

  const accepted = progressSnapshot(proxy(1, [cond("Accepted", "True", 1)]), undefined);
  t = tracker.observe(accepted, 1000);
  assert.deepEqual(t.map((x) => [x.kind, x.step.id]), [["ready", "tunnel_accepted"]]);
  assert.equal(tracker.observe(accepted, 1500).length, 0);

  t = tracker.observe(accepted, STALL_WARNING_MS + 1);
  assert.deepEqual(t.filter((x) => x.kind === "stalled").map((x) => x.step.id), [
    "certificates_ready",
    "connector_ready",
    "iroh_dns_published",
    "route_programmed",
    "connector_metadata_programmed",
  ]);
  assert.equal(
    tracker.observe(accepted, STALL_WARNING_MS + 5000).filter((x) => x.kind === "stalled").length,
    0,
  );
});
