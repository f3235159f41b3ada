/**
 * `datumctl get`, run in process against an HTTP stub of a project control plane serving one
 * type (connectors) with two objects: tables, `--no-headers`, `-o name`, and the login's token
 * on every request.
 */
import assert from "node:assert/strict";
import { json, loggedInEnv, runInProcess } from "../../tests/support/in-process.ts";

const PROJECT = "/apis/resourcemanager.miloapis.com/v1alpha1/projects/infra/control-plane";
const GROUP = "networking.datumapis.com";
const VERSION = `${GROUP}/v1alpha`;

function connector(name: string, className: string) {
  return {
    apiVersion: VERSION,
    kind: "Connector",
    metadata: { name, namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: { connectorClassName: className },
  };
}

const CONNECTORS = [connector("c1", "datum-connect"), connector("edge-2", "datum-connect")];

/** The control plane: onboarding, discovery, and connectors as a list or a server Table. */
function controlPlane(seen: Request[]) {
  return (request: Request): Response => {
    seen.push(request);
    const path = new URL(request.url).pathname;
    if (path.endsWith("/organizations/acme-corp")) {
      return json({
        metadata: { name: "acme-corp" },
        status: {
          conditions: [{ type: "OnboardingComplete", status: "True", reason: "Ready" }],
        },
      });
    }
    if (path === `${PROJECT}/apis`) {
      const gv = { groupVersion: VERSION, version: "v1alpha" };
      return json({ groups: [{ name: GROUP, versions: [gv], preferredVersion: gv }] });
    }
    if (path === `${PROJECT}/apis/${VERSION}`) {
      return json({
        groupVersion: VERSION,
        resources: [{
          name: "connectors",
          singularName: "connector",
          namespaced: true,
          kind: "Connector",
          verbs: ["get", "list"],
        }],
      });
    }
    if (path === `${PROJECT}/apis/${VERSION}/namespaces/default/connectors`) {
      if ((request.headers.get("accept") ?? "").includes("as=Table")) {
        return json({
          kind: "Table",
          apiVersion: "meta.k8s.io/v1",
          metadata: { resourceVersion: "7" },
          columnDefinitions: [
            { name: "Name", type: "string", priority: 0 },
            { name: "Class", type: "string", priority: 0 },
          ],
          rows: CONNECTORS.map((c) => ({
            cells: [c.metadata.name, c.spec.connectorClassName],
            object: { metadata: c.metadata },
          })),
        });
      }
      return json({ kind: "ConnectorList", apiVersion: VERSION, items: CONNECTORS });
    }
    return json({ kind: "Status", code: 404, reason: "NotFound", message: "not found" }, 404);
  };
}

Deno.test("get TYPE prints the server's table, with the login's token on every request", async () => {
  const env = await loggedInEnv();
  const seen: Request[] = [];
  const result = await runInProcess(["get", "connectors"], { env, fetch: controlPlane(seen) });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^NAME\s+CLASS/);
  assert.match(lines[1], /^c1\s+datum-connect/);
  assert.match(lines[2], /^edge-2\s+datum-connect/);
  assert.equal(lines.length, 3);
  assert.ok(seen.length >= 3, result.requests.join("\n"));
  for (const request of seen) {
    assert.equal(request.headers.get("authorization"), "Bearer bench-access-token", request.url);
  }
});

Deno.test("get --no-headers prints the same rows without the header line", async () => {
  const env = await loggedInEnv();
  const withHeaders = await runInProcess(["get", "connectors"], { env, fetch: controlPlane([]) });
  const without = await runInProcess(["get", "connectors", "--no-headers"], {
    env,
    fetch: controlPlane([]),
  });
  assert.equal(without.code, 0, without.stderr);
  assert.equal(without.stdout, withHeaders.stdout.slice(withHeaders.stdout.indexOf("\n") + 1));
  assert.doesNotMatch(without.stdout, /NAME/);
});

Deno.test("get -o name lists kind.group/NAME (the group's first label) from the list", async () => {
  const env = await loggedInEnv();
  const result = await runInProcess(["get", "connectors", "-o", "name"], {
    env,
    fetch: controlPlane([]),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "connector.networking/c1\nconnector.networking/edge-2\n");
});

Deno.test("get without a type is a usage error (exit 2) and sends nothing", async () => {
  const result = await runInProcess(["get"], { env: await loggedInEnv() });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /get needs a resource type/);
  assert.deepEqual(result.requests, []);
});
