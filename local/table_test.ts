import assert from "node:assert/strict";
import { evalJsonPath, humanAge } from "./table.ts";

const proxy = {
  metadata: { annotations: { "kubernetes.io/display-name": "ACME" } },
  status: {
    hostnames: ["a.example", "b.example"],
    conditions: [{ type: "Programmed", status: "True" }, { type: "Accepted", status: "False" }],
  },
};

Deno.test("CRD JSONPath subset: fields, [*], [n], filters, escaped dots", () => {
  assert.deepEqual(evalJsonPath(proxy, ".status.hostnames[*]"), ["a.example", "b.example"]);
  assert.deepEqual(evalJsonPath(proxy, ".status.hostnames[1]"), ["b.example"]);
  assert.deepEqual(evalJsonPath(proxy, '.status.conditions[?(@.type=="Programmed")].status'), [
    "True",
  ]);
  assert.deepEqual(evalJsonPath(proxy, ".status.conditions[?(@.type=='Accepted')].status"), [
    "False",
  ]);
  assert.deepEqual(evalJsonPath(proxy, ".metadata.annotations.kubernetes\\.io\\/display-name"), [
    "ACME",
  ]);
  assert.deepEqual(evalJsonPath(proxy, ".spec.missing"), []);
});

Deno.test("ages read like kubectl's", () => {
  const now = Date.parse("2026-01-02T00:00:00Z");
  assert.equal(humanAge("2026-01-01T23:59:30Z", now), "30s");
  assert.equal(humanAge("2026-01-01T23:55:00Z", now), "5m");
  assert.equal(humanAge("2026-01-01T21:30:00Z", now), "150m");
  assert.equal(humanAge("2026-01-01T20:30:00Z", now), "3h30m");
  assert.equal(humanAge("2025-12-30T00:00:00Z", now), "3d");
});

Deno.test("printer columns use datumctl's JSONPath: negative indexes and != filters work", () => {
  // Both are kubectl JSONPath that a separate emulator-only parser got wrong.
  assert.deepEqual(evalJsonPath(proxy, ".status.conditions[-1].type"), ["Accepted"]);
  assert.deepEqual(evalJsonPath(proxy, '.status.conditions[?(@.status!="True")].type'), [
    "Accepted",
  ]);
  // A future timestamp (clock skew) reads as kubectl shows it, not as 0s.
  assert.equal(humanAge("2026-01-02T00:05:00Z", Date.parse("2026-01-02T00:00:00Z")), "<invalid>");
});
