import assert from "node:assert/strict";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { ApiError } from "./api_status.ts";

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  metadata: { name: "a", namespace: "default", labels },
  ...extra,
});

Deno.test("label selector operators", () => {
  const o = obj({ app: "web", tier: "front" });
  const match = (s: string) => parseLabelSelector(s)(o);
  assert.equal(match("app=web"), true);
  assert.equal(match("app==web,tier=front"), true);
  assert.equal(match("app!=web"), false);
  assert.equal(match("app in (api, web)"), true);
  assert.equal(match("app notin (web)"), false);
  assert.equal(match("tier,!missing"), true);
  assert.equal(match("missing"), false);
  assert.equal(match(""), true);
  assert.throws(() => parseLabelSelector("app=web,bad key"), ApiError);
});

Deno.test("field selector: selectable fields only, = and !=", () => {
  const o = obj({}, { status: { connectionDetails: { publicKey: { id: "abc" } } } });
  const fields = ["status.connectionDetails.publicKey.id"];
  assert.equal(parseFieldSelector("status.connectionDetails.publicKey.id=abc", fields)(o), true);
  assert.equal(parseFieldSelector("metadata.name!=a", fields)(o), false);
  assert.equal(parseFieldSelector("metadata.namespace==default", fields)(o), true);
  assert.throws(() => parseFieldSelector("spec.x=1", fields), (e) => (e as ApiError).code === 400);
});
