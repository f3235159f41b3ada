import assert from "node:assert/strict";
import {
  connectRepo,
  endpointIdFromSecret,
  legacyListenKeyPath,
  listenKeyPath,
  loadOrCreateListenKey,
  namedTunnelDir,
  readListenKey,
} from "./keys.ts";
import type { CliError } from "../core/errors.ts";

function hex(text: string): Uint8Array {
  return new Uint8Array(text.match(/../g)!.map((b) => parseInt(b, 16)));
}

Deno.test("the endpoint id is the Ed25519 public key in lowercase hex (RFC 8032 vector)", async () => {
  const secret = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  assert.equal(
    await endpointIdFromSecret(secret),
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  );
});

Deno.test("keys live per project; the legacy flat key moves to the first project only", async () => {
  const repo = await Deno.makeTempDir();
  const legacy = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeFile(legacyListenKeyPath(repo), legacy);

  const first = await loadOrCreateListenKey(repo, "infra");
  assert.equal(first.origin, "migrated");
  assert.deepEqual(first.secret, legacy);
  assert.equal(first.path, `${repo}/projects/infra/listen_key`);
  await assert.rejects(Deno.stat(legacyListenKeyPath(repo)));
  assert.equal((await Deno.stat(first.path)).mode! & 0o777, 0o600);

  const again = await loadOrCreateListenKey(repo, "infra");
  assert.equal(again.origin, "existing");
  assert.deepEqual(again.secret, legacy);

  const second = await loadOrCreateListenKey(repo, "web-app");
  assert.equal(second.origin, "created");
  assert.notDeepEqual(second.secret, legacy);
  assert.equal(second.secret.length, 32);
  assert.deepEqual(await readListenKey(repo, "web-app"), second.secret);
  assert.equal(await readListenKey(repo, "billing-api"), undefined);
});

Deno.test("a key file of the wrong size is reported, not replaced", async () => {
  const repo = await Deno.makeTempDir();
  await Deno.mkdir(`${repo}/projects/infra`, { recursive: true });
  await Deno.writeTextFile(listenKeyPath(repo, "infra"), "not a key");
  await assert.rejects(loadOrCreateListenKey(repo, "infra"), /listen_key is not a tunnel key/);
  assert.equal(await Deno.readTextFile(listenKeyPath(repo, "infra")), "not a key");
});

Deno.test("project ids cannot escape the repo", () => {
  assert.throws(() => listenKeyPath("/r", "../x"));
  assert.throws(() => listenKeyPath("/r", "a/b"));
});

Deno.test("the repo comes from --repo, then DATUM_CONNECT_REPO, then the default", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(connectRepo("/flag/", env({ DATUM_CONNECT_REPO: "/env" })), "/flag");
  assert.equal(connectRepo(undefined, env({ DATUM_CONNECT_REPO: "/env" })), "/env");
  if (Deno.build.os === "linux") {
    assert.equal(connectRepo(undefined, env({ HOME: "/home/u" })), "/home/u/.local/share/Datum");
  }
});

Deno.test("namedTunnelDir: a DNS label gets its own folder under the connect dir, anything else is a usage error", () => {
  const env = (vars: Record<string, string>) => (k: string) => vars[k];
  if (Deno.build.os === "linux") {
    assert.equal(
      namedTunnelDir("ollama-2", env({ HOME: "/h", XDG_DATA_HOME: "/data" })),
      "/data/datumctl/connect/ollama-2",
    );
    assert.equal(
      namedTunnelDir("web", env({ HOME: "/h" })),
      "/h/.local/share/datumctl/connect/web",
    );
  }
  assert.equal(
    namedTunnelDir("a", env({ DATUMCTL_CONNECT_DIR: "/var/lib/datumctl/connect/" })),
    "/var/lib/datumctl/connect/a",
  );
  assert.equal(
    namedTunnelDir("x".repeat(63), env({ DATUMCTL_CONNECT_DIR: "/r" })),
    `/r/${"x".repeat(63)}`,
  );
  for (const bad of ["", "A", "-a", "a-", "a_b", "a/b", "..", "x".repeat(64)]) {
    assert.throws(
      () => namedTunnelDir(bad, env({ HOME: "/h" })),
      (e: CliError) => e.exitCode === 2,
      bad,
    );
  }
});
