import assert from "node:assert/strict";
import { loginCommandFor } from "./session-tokens.ts";
import { PRODUCTION, STAGING } from "./endpoints.ts";

Deno.test("the re-login hint names exactly the flags the login needs", () => {
  assert.equal(
    loginCommandFor({
      hostname: "auth.datum.net",
      api_hostname: "api.datum.net",
      client_id: PRODUCTION.clientId,
    }),
    "datumctl login",
  );
  assert.equal(
    loginCommandFor({
      hostname: "auth.staging.env.datum.net",
      api_hostname: "api.staging.env.datum.net",
      client_id: STAGING.clientId,
    }),
    "datumctl login --endpoint https://api.staging.env.datum.net",
  );
  assert.equal(
    loginCommandFor({
      hostname: "127.0.0.1:5556",
      api_hostname: "127.0.0.1:8080",
      client_id: "local",
    }),
    "datumctl login --endpoint http://127.0.0.1:8080 --auth-endpoint http://127.0.0.1:5556 --client-id local",
  );
});
