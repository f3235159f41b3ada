import assert from "node:assert/strict";
import { startLocalStack } from "./stack.ts";

Deno.test("startLocalStack runs in-process, serves, and stops without leaks", async () => {
  const stack = await startLocalStack({ controllerDelayMs: 10, gateway: false });
  try {
    const discovery = await fetch(`${stack.issuer}/.well-known/openid-configuration`);
    assert.equal((await discovery.json()).issuer, stack.issuer);
    const denied = await fetch(`${stack.api}/apis`, { headers: { authorization: "Bearer nope" } });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const seen: string[] = [];
    const unsubscribe = stack.store.subscribe((e) => seen.push(`${e.type} ${e.resource.kind}`));
    await stack.setOrganizationOnboarding("personal", "PaymentMethodNotReady");
    unsubscribe();
    assert.deepEqual(seen, ["MODIFIED Organization"]);
    const key = await stack.serviceAccountKeyFile();
    assert.equal(key.type, "datum_service_account");
    assert.match(key.private_key, /BEGIN PRIVATE KEY/);
    await assert.rejects(stack.setFault("no-such-fault", 1), /unknown fault/);
  } finally {
    await stack.stop();
  }
});
