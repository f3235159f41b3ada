import assert from "node:assert/strict";
import { CliError } from "../core/errors.ts";
import type { TunnelAgent } from "./agent.ts";
import type { AgentAddress } from "./details.ts";
import { startAgent } from "./engine.ts";
import type { RelaySettings } from "./relays.ts";
import {
  AddressMemory,
  bindRequest,
  endpointFilePath,
  readRememberedEndpoint,
  rememberEndpoint,
  startOnRememberedPort,
  udpPortOf,
} from "./stable-address.ts";

const ID = "ab".repeat(32);
const RELAY = "https://iroh-relay.us-east-1.datumconnect.net";

Deno.test("endpoint.yml sits beside the project's listen_key", () => {
  assert.equal(endpointFilePath("/r", "infra"), "/r/projects/infra/endpoint.yml");
});

Deno.test("the remembered address round-trips through a private file", async () => {
  const repo = await Deno.makeTempDir();
  assert.equal(await readRememberedEndpoint(repo, "infra"), undefined);
  await rememberEndpoint(repo, "infra", {
    endpointId: ID,
    udpPort: 41641,
    homeRelay: `${RELAY}/`,
    directAddresses: ["10.0.0.2:41641", "[fe80::1]:41641"],
    updated: "2026-06-07T19:10:30.000Z",
  });
  const path = endpointFilePath(repo, "infra");
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(await readRememberedEndpoint(repo, "infra"), {
    endpointId: ID,
    udpPort: 41641,
    homeRelay: `${RELAY}/`,
    directAddresses: ["10.0.0.2:41641", "[fe80::1]:41641"],
    updated: "2026-06-07T19:10:30.000Z",
  });
});

Deno.test("an unreadable endpoint.yml is a data error naming path and line", async () => {
  const repo = await Deno.makeTempDir();
  const path = endpointFilePath(repo, "infra");
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
  const cases: [string, RegExp][] = [
    ["udp_port: [unclosed\n", /line \d+/],
    [`endpoint_id: ${ID}\nudp_port: lots\n`, /line 2: udp_port must be a port number/],
    ["udp_port: 70000\n", /line 1: udp_port must be a port/],
    ["endpoint_id: nope\n", /line 1: endpoint_id must be 64 hex/],
    ["- a list\n", /expected a mapping/],
    ["direct_addresses: 5\n", /direct_addresses must be a list/],
  ];
  for (const [text, why] of cases) {
    await Deno.writeTextFile(path, text);
    await assert.rejects(readRememberedEndpoint(repo, "infra"), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.code, "TUNNEL_ENDPOINT_FILE_INVALID");
      assert.equal(err.exitCode, 65);
      assert.ok(err.message.startsWith(`cannot read ${path}`), err.message);
      assert.match(err.message, why);
      return true;
    });
  }
});

Deno.test("bindRequest: an explicit port wins, else the remembered one", () => {
  assert.deepEqual(bindRequest("127.0.0.1:5000", 41641), { bindAddr: "127.0.0.1:5000" });
  assert.deepEqual(bindRequest("127.0.0.1:0", 41641), {
    bindAddr: "127.0.0.1:41641",
    remembered: 41641,
  });
  assert.deepEqual(bindRequest("[::1]:0", 41641), { bindAddr: "[::1]:41641", remembered: 41641 });
  assert.deepEqual(bindRequest(undefined, 41641), { udpPort: 41641, remembered: 41641 });
  assert.deepEqual(bindRequest(undefined, undefined), { bindAddr: undefined });
  assert.deepEqual(bindRequest("127.0.0.1:0", undefined), { bindAddr: "127.0.0.1:0" });
});

Deno.test("udpPortOf prefers the IPv4 port", () => {
  assert.equal(udpPortOf({ direct: ["[::1]:7000", "127.0.0.1:7001"] }), 7001);
  assert.equal(udpPortOf({ direct: ["[::1]:7000"] }), 7000);
  assert.equal(udpPortOf({ relay: RELAY, direct: [] }), undefined);
  assert.equal(udpPortOf(undefined), undefined);
});

function fakeAgent(address: () => AgentAddress | undefined): TunnelAgent {
  // Only what startOnRememberedPort touches; the rest of the interface is not used here.
  const partial: Partial<TunnelAgent> = { endpointId: ID, address, close: () => Promise.resolve() };
  return partial as TunnelAgent;
}

const DATUM: RelaySettings = { mode: "datum", urls: [RELAY], source: "default" };

Deno.test("a taken remembered port falls back to a new one with a warning", async () => {
  const asked: { bindAddr?: string; udpPort?: number }[] = [];
  const warnings: { code: string; message: string }[] = [];
  const { agent, keptPort } = await startOnRememberedPort({
    startAgent: ({ relay, udpPort }) => {
      asked.push({ bindAddr: relay.bindAddr, udpPort });
      if (udpPort) return Promise.reject(new Error("Address already in use (os error 98)"));
      return Promise.resolve(fakeAgent(() => ({ direct: ["10.0.0.2:50000"] })));
    },
    secretKey: new Uint8Array(32),
    relay: DATUM,
    remembered: { udpPort: 41641 },
    dnsTtlSeconds: 30,
    warn: (w) => warnings.push(w),
  });
  assert.deepEqual(asked, [{ bindAddr: undefined, udpPort: 41641 }, {
    bindAddr: undefined,
    udpPort: undefined,
  }]);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, "udp_port_changed");
  assert.match(warnings[0].message, /UDP port 41641 of the last run is not available/);
  assert.match(warnings[0].message, /Address already in use/);
  assert.match(warnings[0].message, /using port 50000/);
  assert.match(warnings[0].message, /up to 30s/);
  assert.deepEqual(agent.address(), { direct: ["10.0.0.2:50000"] });
  assert.equal(keptPort, false);
});

Deno.test("an explicit bind port is never second-guessed", async () => {
  await assert.rejects(
    startOnRememberedPort({
      startAgent: () => Promise.reject(new Error("in use")),
      secretKey: new Uint8Array(32),
      relay: { ...DATUM, bindAddr: "0.0.0.0:5000" },
      remembered: { udpPort: 41641 },
      dnsTtlSeconds: 30,
      warn: () => assert.fail("no fallback for an explicit port"),
    }),
    /in use/,
  );
});

Deno.test("the remembered relay is published until the agent has its own", async () => {
  let live: AgentAddress = { direct: ["10.0.0.2:41641"] };
  const started = await startOnRememberedPort({
    startAgent: () => Promise.resolve(fakeAgent(() => live)),
    secretKey: new Uint8Array(32),
    relay: DATUM,
    remembered: { udpPort: 41641, homeRelay: `${RELAY}/` },
    dnsTtlSeconds: 30,
    warn: () => {},
  });
  assert.deepEqual(started.agent.address(), { relay: `${RELAY}/`, direct: ["10.0.0.2:41641"] });
  assert.deepEqual(started.ownAddress(), { direct: ["10.0.0.2:41641"] });
  assert.equal(started.keptPort, true);
  live = { relay: "https://other.example/", direct: ["10.0.0.2:41641"] };
  assert.equal(started.agent.address()?.relay, "https://other.example/");

  // Not with relays disabled, nor with a relay no longer configured.
  for (const relay of [{ mode: "disabled", source: "x" }, { ...DATUM, urls: ["https://b/"] }]) {
    const { agent } = await startOnRememberedPort({
      startAgent: () => Promise.resolve(fakeAgent(() => ({ direct: ["10.0.0.2:1"] }))),
      secretKey: new Uint8Array(32),
      relay: relay as RelaySettings,
      remembered: { homeRelay: RELAY },
      dnsTtlSeconds: 30,
      warn: () => {},
    });
    assert.equal(agent.address()?.relay, undefined);
  }
});

Deno.test("AddressMemory writes when the port or relay change, not otherwise", async () => {
  const repo = await Deno.makeTempDir();
  const memory = new AddressMemory(repo, "infra", ID);
  const path = endpointFilePath(repo, "infra");
  await memory.update(undefined);
  await assert.rejects(Deno.stat(path));
  await memory.update({ direct: ["127.0.0.1:41641"] });
  const first = await Deno.readTextFile(path);
  assert.match(first, /udp_port: 41641/);
  await memory.update({ direct: ["127.0.0.1:41641"] });
  assert.equal(await Deno.readTextFile(path), first, "unchanged address, no write");
  await memory.update({ relay: RELAY, direct: ["127.0.0.1:41641"] });
  await memory.flush();
  assert.equal((await readRememberedEndpoint(repo, "infra"))?.homeRelay, RELAY);
});

Deno.test("engine: udpPort binds that port on all interfaces, and a taken port fails", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const secretKey = crypto.getRandomValues(new Uint8Array(32));
  const agent = await startAgent({ secretKey, relays: "disabled", udpPort: port });
  try {
    const direct = agent.address()?.direct ?? [];
    assert.ok(direct.length > 0);
    assert.ok(direct.every((a) => a.endsWith(`:${port}`)), direct.join(" "));
    await assert.rejects(
      startAgent({
        secretKey: crypto.getRandomValues(new Uint8Array(32)),
        relays: "disabled",
        udpPort: port,
      }),
      (err: unknown) => err instanceof CliError && err.code === "ENGINE",
    );
  } finally {
    await agent.close();
  }
});
