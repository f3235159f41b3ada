import assert from "node:assert/strict";
import { describeObject, parseResourceOutput, printObjects, renderTableView } from "./printers.ts";
import { UsageError } from "../core/errors.ts";
import { humanAge, type KubeTable, objectsTable } from "../resources/objects.ts";

const NOW = Date.parse("2026-07-16T12:00:00Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

Deno.test("humanAge follows kubectl's steps", () => {
  const cases: [number, string][] = [
    [5, "5s"],
    [119, "119s"],
    [125, "2m5s"],
    [180, "3m"],
    [60 * 45, "45m"],
    [60 * 60 * 4 + 60 * 12, "4h12m"],
    [60 * 60 * 30, "30h"],
    [60 * 60 * 24 * 3 + 3600 * 5, "3d5h"],
    [60 * 60 * 24 * 300, "300d"],
    [60 * 60 * 24 * (365 * 3 + 10), "3y10d"],
  ];
  for (const [seconds, want] of cases) {
    assert.equal(humanAge(ago(seconds), NOW), want, `${seconds}s`);
  }
  assert.equal(humanAge(undefined, NOW), "<unknown>");
});

const TABLE: KubeTable = {
  kind: "Table",
  apiVersion: "meta.k8s.io/v1",
  columnDefinitions: [
    { name: "Name", type: "string", format: "name" },
    { name: "Hostname", type: "string" },
    { name: "Programmed", type: "string", priority: 1 },
    { name: "Age", type: "date" },
  ],
  rows: [{
    cells: ["staging", null, "True", ago(90)],
    object: { metadata: { name: "staging", namespace: "default", labels: { team: "web" } } },
  }],
};

Deno.test("server-side Tables: priority columns with wide, labels, namespace, kind prefix", async () => {
  assert.equal(
    await renderTableView(TABLE, { now: NOW }),
    "NAME      HOSTNAME   AGE\nstaging   <none>     90s\n",
  );
  assert.equal(
    await renderTableView(TABLE, {
      now: NOW,
      wide: true,
      showLabels: true,
      showNamespace: true,
      kindPrefix: "httpproxy.networking",
    }),
    "NAMESPACE   NAME                           HOSTNAME   PROGRAMMED   AGE   LABELS\n" +
      "default     httpproxy.networking/staging   <none>     True         90s   team=web\n",
  );
  assert.equal(
    await renderTableView(
      objectsTable([{ metadata: { name: "x", creationTimestamp: ago(30) } }], NOW),
    ),
    "NAME   AGE\nx      30s\n",
  );
});

Deno.test("-o parsing and object printers", async () => {
  await assert.rejects(() => parseResourceOutput("xml"), UsageError);
  await assert.rejects(() => parseResourceOutput("custom-columns=NAME"), UsageError);
  const objects = [
    { apiVersion: "networking.datumapis.com/v1alpha1", kind: "Connector", metadata: { name: "a" } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } },
  ];
  assert.equal(
    await printObjects(objects, await parseResourceOutput("name"), false),
    "connector.networking/a\nnamespace/default\n",
  );
  assert.equal(
    JSON.parse(await printObjects(objects, await parseResourceOutput("json"), false)).kind,
    "List",
  );
  assert.equal(
    JSON.parse(await printObjects([objects[0]], await parseResourceOutput("json"), true)).kind,
    "Connector",
  );
  assert.equal(
    await printObjects(
      objects,
      await parseResourceOutput("jsonpath={.items[*].metadata.name}"),
      false,
    ),
    "a default",
  );
  assert.equal(
    await printObjects(
      objects,
      await parseResourceOutput("custom-columns=NAME:.metadata.name,KIND:.kind"),
      false,
    ),
    "NAME      KIND\na         Connector\ndefault   Namespace\n",
  );
});

Deno.test("describe titles fields the way kubectl does", () => {
  const text = describeObject({
    apiVersion: "networking.datumapis.com/v1alpha1",
    kind: "Connector",
    metadata: { name: "c", namespace: "default", labels: { a: "b" }, managedFields: [{}] },
    spec: { connectorClassName: "datum-connect" },
  });
  assert.match(text, /^Name:\s+c$/m);
  assert.match(text, /^Labels:\s+a=b$/m);
  assert.match(text, /^Annotations:\s+<none>$/m);
  assert.match(text, /^Spec:\n {2}Connector Class Name:\s+datum-connect$/m);
  assert.doesNotMatch(text, /Managed Fields/);
});
