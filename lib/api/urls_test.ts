import assert from "node:assert/strict";
import {
  apiBaseUrl,
  apiHost,
  organizationControlPlaneUrl,
  platformUrl,
  projectControlPlaneUrl,
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

Deno.test("control-plane URLs follow datum-api.md §3", () => {
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
