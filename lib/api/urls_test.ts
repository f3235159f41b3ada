import assert from "node:assert/strict";
import { UsageError } from "../core/errors.ts";
import {
  apiBaseUrl,
  apiHost,
  checkNamespace,
  checkRequestPath,
  checkResourceName,
  organizationControlPlaneUrl,
  platformUrl,
  projectControlPlaneUrl,
  requestPathProblem,
  resourcePath,
  userControlPlaneUrl,
} from "./urls.ts";

Deno.test("the API base gets a scheme when missing and loses trailing slashes", () => {
  assert.equal(apiBaseUrl("api.datum.net"), "https://api.datum.net");
  assert.equal(apiBaseUrl("https://api.datum.net/"), "https://api.datum.net");
  assert.equal(apiBaseUrl("http://127.0.0.1:8080//"), "http://127.0.0.1:8080");
  assert.equal(platformUrl("api.staging.env.datum.net/"), "https://api.staging.env.datum.net");
  assert.equal(apiHost("http://127.0.0.1:8080/"), "127.0.0.1:8080");
});

Deno.test("control-plane URLs hang off the API host at fixed prefixes", () => {
  assert.equal(
    userControlPlaneUrl("api.datum.net", "123"),
    "https://api.datum.net/apis/iam.miloapis.com/v1alpha1/users/123/control-plane",
  );
  assert.equal(
    organizationControlPlaneUrl("https://api.datum.net/", "acme-corp"),
    "https://api.datum.net/apis/resourcemanager.miloapis.com/v1alpha1/organizations/acme-corp/control-plane",
  );
  assert.equal(
    projectControlPlaneUrl("https://api.datum.net", "infra"),
    "https://api.datum.net/apis/resourcemanager.miloapis.com/v1alpha1/projects/infra/control-plane",
  );
});

Deno.test("resource paths cover core, grouped, namespaced and subresources", () => {
  assert.equal(resourcePath({ version: "v1", plural: "namespaces" }), "/api/v1/namespaces");
  assert.equal(
    resourcePath({
      group: "networking.datumapis.com",
      version: "v1alpha",
      plural: "httpproxies",
      namespace: "default",
      name: "web",
      subresource: "status",
    }),
    "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies/web/status",
  );
});

Deno.test("names that are paths in disguise are usage errors", () => {
  for (const bad of [".", "..", "a/b", "a%2Fb", "%2e", "", "x".repeat(254)]) {
    assert.throws(() => checkResourceName(bad), UsageError, JSON.stringify(bad.slice(0, 9)));
    assert.throws(
      () => resourcePath({ version: "v1", plural: "configmaps", namespace: "default", name: bad }),
      UsageError,
    );
  }
  assert.equal(checkResourceName("web-1.example"), "web-1.example");
  assert.equal(checkResourceName("x".repeat(253)), "x".repeat(253));
  assert.throws(() => projectControlPlaneUrl("api.datum.net", ".."), UsageError);
  assert.throws(() => organizationControlPlaneUrl("api.datum.net", "a/b"), UsageError);
  for (const bad of ["..", "Default", "a_b", "x".repeat(64), ""]) {
    assert.throws(() => checkNamespace(bad), UsageError, bad);
  }
});

Deno.test("request paths that normalise to something else are refused", () => {
  for (
    const bad of [
      "/api/v1/namespaces/default/configmaps/.",
      "/api/v1/namespaces/default/configmaps/..",
      "/api/v1/namespaces/default/configmaps/%2e",
      "/api/v1/namespaces/%2E%2E/configmaps",
      "/api/v1/namespaces/default/configmaps/.%2E",
      "/api/v1/namespaces/default/configmaps/a%2Fb",
      "/api/v1/namespaces/default/configmaps/a%2fb",
      "/api/v1/namespaces\\default",
      "/api/v1/namespaces%5Cdefault",
    ]
  ) {
    assert.ok(requestPathProblem(bad), bad);
    assert.throws(() => checkRequestPath(bad), UsageError, bad);
  }
  // Dots inside a name and in the query are fine.
  assert.equal(requestPathProblem("/api/v1/namespaces/default/configmaps/a.b..c"), undefined);
  assert.equal(requestPathProblem("/api/v1/configmaps?labelSelector=a/../b"), undefined);
});
