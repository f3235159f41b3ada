import assert from "node:assert/strict";
import {
  listServiceDefinitions,
  parseServiceDefinition,
  readServiceDefinition,
  removeServiceDefinition,
  serializeServiceDefinition,
  type ServiceDefinition,
  serviceDefinitionPath,
  writeServiceDefinition,
} from "./definition.ts";
import { CliError } from "../../core/errors.ts";

const DEFINITION: ServiceDefinition = {
  name: "web",
  label: "my web",
  endpoint: "http://localhost:3000",
  project: "infra",
  session: "ci@example.com@api.datum.net",
  org: "acme-corp",
  api_host: "api.datum.net",
  scope: "system",
  created_at: "2026-07-01T00:00:00.000Z",
  created_by: "ci@example.com",
};

Deno.test("a definition survives a write and a read, 0600 under ~/.datumctl/services", async () => {
  const home = await Deno.makeTempDir();
  const env = (name: string) => (name === "HOME" ? home : undefined);
  assert.equal(await readServiceDefinition("web", env), undefined);
  const path = await writeServiceDefinition(DEFINITION, env);
  assert.equal(path, `${home}/.datumctl/services/web.yaml`);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(await readServiceDefinition("web", env), DEFINITION);
  await writeServiceDefinition({ ...DEFINITION, name: "api", org: undefined }, env);
  assert.deepEqual((await listServiceDefinitions(env)).map((d) => d.name), ["api", "web"]);
  assert.equal(await removeServiceDefinition("web", env), true);
  assert.equal(await removeServiceDefinition("web", env), false);
});

Deno.test("the file is plain YAML with the spec's keys in order", () => {
  const text = serializeServiceDefinition({ ...DEFINITION, org: undefined });
  const keys = text.split("\n").filter((l) => /^\w+:/.test(l)).map((l) => l.split(":")[0]);
  assert.deepEqual(keys, [
    "name",
    "label",
    "endpoint",
    "project",
    "session",
    "api_host",
    "scope",
    "created_at",
    "created_by",
  ]);
});

Deno.test("malformed definitions name the file and line, exit 65", () => {
  const bad = (text: string, pattern: RegExp) =>
    assert.throws(() => parseServiceDefinition(text, "/x/web.yaml"), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 65);
      assert.match(err.message, pattern);
      return true;
    });
  bad("name: web\nlabel: [oops\n", /\/x\/web\.yaml \(line \d+\)/);
  bad("- a list\n", /expected a mapping/);
  bad(serializeServiceDefinition(DEFINITION).replace(/^project:.*$/m, ""), /"project" is missing/);
  bad(serializeServiceDefinition(DEFINITION).replace("scope: system", "scope: both"), /scope/);
});

Deno.test("a definition whose name differs from its file is refused", async () => {
  const home = await Deno.makeTempDir();
  const env = (name: string) => (name === "HOME" ? home : undefined);
  await writeServiceDefinition(DEFINITION, env);
  await Deno.rename(serviceDefinitionPath("web", env), serviceDefinitionPath("other", env));
  await assert.rejects(() => readServiceDefinition("other", env), /its name is "web"/);
  assert.throws(() => serviceDefinitionPath("../etc", env), /not a valid tunnel name/);
});

/** The endpoint id of the secret key of 32 bytes of 7 (an Ed25519 public key). */
const PEER = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";

Deno.test("allow_peers survives a write and a read, as a YAML list after the other keys", async () => {
  const home = await Deno.makeTempDir();
  const env = (name: string) => (name === "HOME" ? home : undefined);
  const withPeers = { ...DEFINITION, allow_peers: [PEER, "cd".repeat(32)] };
  const path = await writeServiceDefinition(withPeers, env);
  const text = await Deno.readTextFile(path);
  assert.match(text, new RegExp(`created_by: ci@example\\.com\\nallow_peers:\\n  - ${PEER}\\n`));
  assert.deepEqual(await readServiceDefinition("web", env), withPeers);
  assert.doesNotMatch(
    serializeServiceDefinition({ ...DEFINITION, allow_peers: [] }),
    /allow_peers/,
    "an empty list is left out",
  );
});

Deno.test("an allow_peers list that does not read is refused (65), never widened", () => {
  const base = serializeServiceDefinition(DEFINITION);
  for (
    const bad of [
      "allow_peers: abc\n",
      "allow_peers:\n  - abc\n",
      "allow_peers:\n  - 1\n",
      // The right length, but not a point of the curve: the engine would refuse it.
      `allow_peers:\n  - ${"5e".repeat(32)}\n`,
      `allow_peers:\n  - ${PEER.toUpperCase()}\n`,
    ]
  ) {
    assert.throws(() => parseServiceDefinition(base + bad, "/x/web.yaml"), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 65);
      assert.match(err.message, /"allow_peers" must be a list of iroh endpoint ids/);
      return true;
    });
  }
});
