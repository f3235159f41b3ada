import assert from "node:assert/strict";
import { OpenApiDocs, schemaName } from "./openapi.ts";
import { RESOURCE_TYPES, type ResourceType } from "./resources.ts";
import type { Schema } from "./schemas.ts";

/** Follows `path` through properties and array items of a kind's schema. */
function at(type: ResourceType, path: string): Schema {
  const doc = new OpenApiDocs().document([type]);
  let node = (doc.components as { schemas: Record<string, Schema> }).schemas[schemaName(type)];
  for (const segment of path ? path.split(".") : []) {
    if (node.type === "array") node = node.items as Schema;
    node = (node.properties as Record<string, Schema> | undefined)?.[segment] as Schema;
    assert.ok(node, `${type.kind} has no ${path}`);
  }
  return node;
}

const kind = (name: string) => RESOURCE_TYPES.find((t) => t.kind === name)!;

Deno.test("every built-in kind has a written schema, not the bare outline", () => {
  // ConfigMaps, Secrets and Events keep their fields at the top, without a spec.
  const flat = new Set(["ConfigMap", "Secret", "Event"]);
  for (const type of RESOURCE_TYPES) {
    const node = flat.has(type.kind) ? at(type, "") : at(type, "spec");
    assert.ok(
      Object.keys(node.properties as Schema ?? {}).length > 0,
      `${type.kind} ${flat.has(type.kind) ? "schema" : "spec"} lists no fields`,
    );
  }
});

Deno.test("schemas carry the CRD limits and required fields", () => {
  const addresses = at(kind("Connector"), "status.connectionDetails.publicKey.addresses");
  assert.equal(addresses.maxItems, 16);
  assert.equal(
    at(kind("Connector"), "status.connectionDetails.publicKey.addresses.address").maxLength,
    39,
  );
  assert.equal(at(kind("HTTPProxy"), "spec.rules").maxItems, 16);
  assert.equal(at(kind("HTTPProxy"), "spec.rules.backends").maxItems, 1);
  assert.deepEqual(at(kind("HTTPProxy"), "spec").required, ["rules"]);
  assert.deepEqual(at(kind("ConnectorAdvertisement"), "spec").required, ["connectorRef"]);
  assert.equal(at(kind("HTTPProxy"), "status.hostnames").type, "array");
});

Deno.test("a kind registered without a schema gets a spec/status outline", () => {
  const type: ResourceType = {
    group: "example.com",
    version: "v1",
    kind: "Widget",
    plural: "widgets",
    singular: "widget",
    namespaced: true,
    statusSubresource: true,
    printerColumns: [],
    selectableFields: [],
    planes: ["project"],
  };
  assert.equal(at(type, "spec").type, "object");
  assert.equal(at(type, "status").type, "object");
  assert.equal(at(type, "metadata").description !== undefined, true);
});
