import assert from "node:assert/strict";
import { DATUM_RELAYS, parseRelayList, pickFastestRelays, resolveRelaySettings } from "./relays.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("relay lists split on commas, semicolons and spaces and get https://", () => {
  assert.deepEqual(parseRelayList("a.example, b.example;http://c.example  d.example"), [
    "https://a.example",
    "https://b.example",
    "http://c.example",
    "https://d.example",
  ]);
});

Deno.test("relay settings: explicit, datum-connect list, loopback API, default", async () => {
  assert.deepEqual(
    await resolveRelaySettings(env({ DATUMCTL_TUNNEL_RELAY: "disabled" }), "https://api.datum.net"),
    {
      mode: "disabled",
      bindAddr: undefined,
      source: "DATUMCTL_TUNNEL_RELAY",
    },
  );
  const custom = await resolveRelaySettings(
    env({ DATUM_CONNECT_RELAY_URLS: "r1.example" }),
    "https://api.datum.net",
  );
  assert.equal(custom.mode, "custom");
  assert.deepEqual(custom.urls, ["https://r1.example"]);
  const local = await resolveRelaySettings(env({}), "http://127.0.0.1:4000");
  assert.equal(local.mode, "disabled");
  assert.equal(local.bindAddr, "127.0.0.1:0");
  const prod = await resolveRelaySettings(env({}), "https://api.datum.net");
  assert.equal(prod.mode, "datum");
  assert.deepEqual(prod.urls, DATUM_RELAYS);
});

Deno.test("more than 5 relays: the 5 that answer /ping fastest are kept", async () => {
  const urls = Array.from({ length: 7 }, (_, i) => `https://r${i}.example`);
  const delays: Record<string, number> = { r0: 50, r1: 10, r2: 40, r3: 30, r4: 20, r5: 5, r6: 60 };
  const ping = async (url: string) => {
    const name = new URL(url).hostname.split(".")[0];
    await new Promise((r) => setTimeout(r, delays[name]));
    return name !== "r5";
  };
  assert.deepEqual(await pickFastestRelays(urls, ping), [
    "https://r1.example",
    "https://r4.example",
    "https://r3.example",
    "https://r2.example",
    "https://r0.example",
  ]);
});
