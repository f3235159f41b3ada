import assert from "node:assert/strict";
import {
  deepEqual,
  fieldsV1ToPaths,
  jsonPatch,
  leafPaths,
  mergePatch,
  pathsToFieldsV1,
} from "./patch.ts";

Deno.test("merge patch merges objects, replaces arrays, deletes with null", () => {
  const out = mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: null, d: 3 }, l: [3] });
  assert.deepEqual(out, { a: { b: 1, d: 3 }, l: [3] });
});

Deno.test("JSON patch add/remove/replace/test", () => {
  const doc = { spec: { list: [1, 2] } };
  const out = jsonPatch(doc, [
    { op: "add", path: "/spec/list/-", value: 3 },
    { op: "replace", path: "/spec/list/0", value: 0 },
    { op: "remove", path: "/spec/list/1" },
    { op: "test", path: "/spec/list", value: [0, 3] },
  ]);
  assert.deepEqual(out, { spec: { list: [0, 3] } });
  assert.deepEqual(doc, { spec: { list: [1, 2] } }, "the input is not changed");
  assert.throws(() => jsonPatch(doc, [{ op: "test", path: "/spec/list", value: [] }]));
});

Deno.test("apply field sets round-trip through fieldsV1", () => {
  const paths = leafPaths({
    apiVersion: "v1",
    kind: "X",
    metadata: { name: "n", labels: { a: "b" } },
    spec: { x: 1, list: [{ y: 2 }] },
  });
  assert.deepEqual(paths, [["metadata", "labels", "a"], ["spec", "x"], ["spec", "list"]]);
  assert.deepEqual(fieldsV1ToPaths(pathsToFieldsV1(paths)), paths);
});

Deno.test("deepEqual ignores key order and undefined members", () => {
  assert.ok(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined }));
  assert.ok(!deepEqual({ a: [1] }, { a: [1, 2] }));
});
