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
