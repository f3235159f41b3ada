import assert from "node:assert/strict";
import {
  buildConnectionDetails,
  NO_HOME_RELAY,
  parseSocketAddress,
  sameConnectionDetails,
} from "./details.ts";

const ID = "a".repeat(64);

Deno.test("addresses drop zone ids and brackets and reject what is not an IP", () => {
  assert.deepEqual(parseSocketAddress("[fe80::1%eth0]:4242"), { address: "fe80::1", port: 4242 });
  assert.deepEqual(parseSocketAddress("[2001:DB8::5]:1"), { address: "2001:db8::5", port: 1 });
  assert.deepEqual(parseSocketAddress("192.168.1.2:5000"), { address: "192.168.1.2", port: 5000 });
  assert.equal(parseSocketAddress("example.com:80"), undefined);
  assert.equal(parseSocketAddress("fe80::1:80"), undefined);
  assert.equal(parseSocketAddress("1.2.3.4:0"), undefined);
});

Deno.test("at most 16 addresses are published, duplicates collapsed", () => {
  const direct = Array.from({ length: 20 }, (_, i) => `10.0.0.${i}:7000`);
  direct.unshift("[fe80::1%eth0]:1", "[fe80::1%wlan0]:1");
  const d = buildConnectionDetails(ID, { relay: "https://relay.example/", direct })!;
  assert.equal(d.publicKey.addresses.length, 16);
  assert.deepEqual(d.publicKey.addresses[0], { address: "fe80::1", port: 1 });
  assert.deepEqual(d.publicKey.addresses[1], { address: "10.0.0.0", port: 7000 });
  assert.equal(d.type, "PublicKey");
  assert.equal(d.publicKey.discoveryMode, "DNS");
  assert.equal(d.publicKey.homeRelay, "https://relay.example/");
});

Deno.test("nothing to publish without relay or address; change detection", () => {
  assert.equal(buildConnectionDetails(ID, { direct: [] }), undefined);
  const a = buildConnectionDetails(ID, { direct: ["127.0.0.1:5"] });
  // Datum's schema requires a URL homeRelay: a direct-only agent publishes the placeholder.
  assert.equal(a?.publicKey.homeRelay, NO_HOME_RELAY);
  assert.ok(
    URL.canParse(a!.publicKey.homeRelay) && new URL(NO_HOME_RELAY).hostname.endsWith(".invalid"),
  );
  assert.ok(sameConnectionDetails(a, buildConnectionDetails(ID, { direct: ["127.0.0.1:5"] })));
  assert.ok(!sameConnectionDetails(a, buildConnectionDetails(ID, { direct: ["127.0.0.1:6"] })));
  assert.ok(!sameConnectionDetails(a, undefined));
});
