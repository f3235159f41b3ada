import assert from "node:assert/strict";
import { ExitCode } from "../core/errors.ts";
import { apiErrorFromResponse } from "./errors.ts";

const PLANE = "https://api.example/apis/resourcemanager.miloapis.com/v1alpha1/projects";
const notFound = (name: string, kind: string) =>
  JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    message: `${kind} "${name}" not found`,
    reason: "NotFound",
    details: { name, kind },
    code: 404,
  });

Deno.test("a write into a project without its namespace names the missing project (64)", () => {
  const err = apiErrorFromResponse(
    "POST",
    `${PLANE}/nope/control-plane/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors`,
    404,
    "Not Found",
    notFound("default", "namespaces"),
  );
  assert.equal(err.code, "PROJECT_NOT_FOUND");
  assert.equal(err.message, 'project "nope" does not exist (it has no namespace "default")');
  assert.equal(err.exitCode, ExitCode.rejected);
  assert.match(err.hint!, /datumctl ctx/);
});

Deno.test("other not-found answers keep the server's message", () => {
  const object = apiErrorFromResponse(
    "GET",
    `${PLANE}/infra/control-plane/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors/c1`,
    404,
    "Not Found",
    notFound("c1", "connectors.networking.datumapis.com"),
  );
  assert.equal(object.code, "NOT_FOUND");
  assert.equal(object.exitCode, ExitCode.error);
  // A namespace missing outside a project's control plane is not a missing project.
  const elsewhere = apiErrorFromResponse(
    "POST",
    "https://api.example/apis/iam.miloapis.com/v1alpha1/users/1/control-plane/apis/x.io/v1/namespaces/ns/things",
    404,
    "Not Found",
    notFound("ns", "namespaces"),
  );
  assert.equal(elsewhere.code, "NOT_FOUND");
});
