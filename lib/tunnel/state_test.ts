import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  readTunnelState,
  removeTunnelEntry,
  setTunnelEntryEnabled,
  tunnelStatePath,
  upsertTunnelEntry,
} from "./state.ts";

Deno.test("state.yml is written in datum-connect's shape and keeps unknown keys", async () => {
  const repo = await Deno.makeTempDir();
  await Deno.writeTextFile(
    tunnelStatePath(repo),
    "extra: kept\nproxies:\n  - info:\n      resource_id: tunnel-old\n      label: old\n      data: {host: 127.0.0.1, port: 3000, note: x}\n      other: y\n    enabled: false\n",
  );
  await upsertTunnelEntry(repo, {
    id: "tunnel-abc",
    label: "web",
    target: { host: "localhost", port: 8080 },
    enabled: true,
  });
  await upsertTunnelEntry(repo, {
    id: "tunnel-old",
    label: "renamed",
    target: { host: "127.0.0.1", port: 3001 },
    enabled: true,
  });
  const raw = parse(await Deno.readTextFile(tunnelStatePath(repo)));
  assert.equal(raw.extra, "kept");
  assert.deepEqual(raw.proxies[0], {
    info: {
      resource_id: "tunnel-old",
      label: "renamed",
      data: { host: "127.0.0.1", port: 3001, note: "x" },
      other: "y",
    },
    enabled: true,
  });
  assert.deepEqual(raw.proxies[1], {
    info: { resource_id: "tunnel-abc", label: "web", data: { host: "localhost", port: 8080 } },
    enabled: true,
  });
  assert.equal((await Deno.stat(tunnelStatePath(repo))).mode! & 0o777, 0o600);

  assert.equal(await setTunnelEntryEnabled(repo, "tunnel-abc", false), true);
  assert.equal(await setTunnelEntryEnabled(repo, "tunnel-none", false), false);
  await removeTunnelEntry(repo, "tunnel-old");
  assert.deepEqual(await readTunnelState(repo), [
    { id: "tunnel-abc", label: "web", target: { host: "localhost", port: 8080 }, enabled: false },
  ]);
});

Deno.test("a state.yml that does not parse is reported with its line and left alone", async () => {
  const repo = await Deno.makeTempDir();
  const broken = "proxies:\n  - info: {resource_id: x\n    enabled: true\n";
  await Deno.writeTextFile(tunnelStatePath(repo), broken);
  await assert.rejects(
    upsertTunnelEntry(repo, { id: "t", label: "l", target: { host: "h", port: 1 }, enabled: true }),
    (err: Error) => err.message.includes(tunnelStatePath(repo)) && /line \d+/.test(err.message),
  );
  assert.equal(await Deno.readTextFile(tunnelStatePath(repo)), broken);
  await Deno.writeTextFile(tunnelStatePath(repo), "proxies: 7\n");
  await assert.rejects(readTunnelState(repo), /line 1: expected `proxies:` to be a list/);
});

Deno.test("removing from a missing state file writes nothing", async () => {
  const repo = await Deno.makeTempDir();
  await removeTunnelEntry(repo, "tunnel-x");
  await assert.rejects(Deno.stat(tunnelStatePath(repo)));
  assert.deepEqual(await readTunnelState(repo), []);
});
