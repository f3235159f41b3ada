import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { mintAssertion, parseServiceAccountKey, serviceAccountKeyPath } from "./service-account.ts";
import { CliError } from "../core/errors.ts";

Deno.test("key files are checked field by field, naming the file", () => {
  const bad = (text: string, pattern: RegExp) =>
    assert.throws(() => parseServiceAccountKey(text, "/keys/sa.json"), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.match(err.message, /\/keys\/sa\.json/);
      assert.match(err.message, pattern);
      return true;
    });
  bad("{", /not a service-account key file/);
  bad(JSON.stringify({ type: "service_account" }), /datum_service_account/);
  bad(JSON.stringify({ type: "datum_service_account", client_id: "1" }), /private_key_id/);
  const ok = parseServiceAccountKey(
    JSON.stringify({
      type: "datum_service_account",
      client_id: "1",
      private_key_id: "k",
      private_key: "pem",
      client_email: "sa@p.iam.datum.net",
    }),
    "x",
  );
  assert.equal(ok.client_email, "sa@p.iam.datum.net");
});

Deno.test("assertions follow RFC 7523 as Zitadel wants them, from PKCS#1 keys too", async () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  for (const type of ["pkcs1", "pkcs8"] as const) {
    const pem = privateKey.export({ type, format: "pem" }) as string;
    const jwt = await mintAssertion(
      { client_id: "3141", private_key_id: "kid-1", private_key: pem },
      "https://auth.datum.net",
    );
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: "RS256", kid: "kid-1", typ: "JWT" });
    const claims = decodeJwt(jwt);
    assert.equal(claims.iss, "3141");
    assert.equal(claims.sub, "3141");
    assert.equal(claims.aud, "https://auth.datum.net");
    assert.equal(claims.exp! - claims.iat!, 60);
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
  }
});

Deno.test("service-account keys live in <UserConfigDir>/datumctl/service-accounts/<sha256>.pem", async () => {
  const path = await serviceAccountKeyPath(
    "sa@x@auth.datum.net",
    (n) => ({ HOME: "/home/u", XDG_CONFIG_HOME: "/home/u/.config" })[n],
  );
  assert.match(path, /^\/home\/u\/\.config\/datumctl\/service-accounts\/[0-9a-f]{64}\.pem$/);
});
