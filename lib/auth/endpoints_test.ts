import assert from "node:assert/strict";
import {
  clientIdForAuthHost,
  issuerFromAuthHostname,
  PRODUCTION,
  resolveLoginEndpoints,
  STAGING,
} from "./endpoints.ts";
import { UsageError } from "../core/errors.ts";

Deno.test("no flags means production with the datumctl-cli client", () => {
  assert.deepEqual(resolveLoginEndpoints({}), {
    apiBase: "https://api.datum.net",
    apiHost: "api.datum.net",
    issuer: "https://auth.datum.net",
    authHost: "auth.datum.net",
    clientId: PRODUCTION.clientId,
  });
});

Deno.test("the issuer is derived from the API host, and the client id by suffix", () => {
  const e = resolveLoginEndpoints({ endpoint: "https://api.staging.env.datum.net/" });
  assert.equal(e.apiBase, "https://api.staging.env.datum.net");
  assert.equal(e.issuer, "https://auth.staging.env.datum.net");
  assert.equal(e.clientId, STAGING.clientId);
});

Deno.test("datumctl's --hostname derives the API host and accepts bare hosts", () => {
  const e = resolveLoginEndpoints({ hostname: "auth.staging.env.datum.net" });
  assert.equal(e.apiBase, "https://api.staging.env.datum.net");
  assert.equal(e.authHost, "auth.staging.env.datum.net");
});

Deno.test("an unknown host needs --client-id, with datumctl's message", () => {
  assert.throws(
    () => resolveLoginEndpoints({ endpoint: "https://api.example.org" }),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message ===
        "client ID not configured for hostname 'auth.example.org'. Please specify one with the --client-id flag",
  );
  const e = resolveLoginEndpoints({ endpoint: "https://api.example.org", clientId: "abc" });
  assert.equal(e.clientId, "abc");
});

Deno.test("plain http only for loopback hosts", () => {
  assert.throws(
    () => resolveLoginEndpoints({ endpoint: "http://api.datum.net" }),
    /only allowed for loopback/,
  );
  const e = resolveLoginEndpoints({
    endpoint: "http://127.0.0.1:8080",
    authEndpoint: "http://127.0.0.1:8081",
    clientId: "local",
  });
  assert.equal(e.apiHost, "127.0.0.1:8080");
  assert.equal(e.issuer, "http://127.0.0.1:8081");
  assert.equal(e.authHost, "127.0.0.1:8081");
});

Deno.test("a loopback API without an auth endpoint cannot be guessed", () => {
  assert.throws(
    () => resolveLoginEndpoints({ endpoint: "http://127.0.0.1:8080", clientId: "x" }),
    (err: unknown) => err instanceof UsageError && /--auth-endpoint/.test(err.hint ?? ""),
  );
});

Deno.test("conflicting spellings of the same flag are rejected", () => {
  assert.throws(
    () =>
      resolveLoginEndpoints({
        endpoint: "https://api.a.datum.net",
        apiHostname: "api.b.datum.net",
      }),
    /give only one/,
  );
});

Deno.test("client ids by suffix and issuers of stored hosts", () => {
  assert.equal(clientIdForAuthHost("auth.datum.net"), PRODUCTION.clientId);
  assert.equal(clientIdForAuthHost("auth.staging.env.datum.net"), STAGING.clientId);
  assert.equal(clientIdForAuthHost("auth.example.org"), undefined);
  assert.equal(issuerFromAuthHostname("auth.datum.net"), "https://auth.datum.net");
  assert.equal(issuerFromAuthHostname("127.0.0.1:5556"), "http://127.0.0.1:5556");
});
