import assert from "node:assert/strict";
import { contextViews, matchContextRef } from "./contexts.ts";
import { resolveContextForUse, useContext } from "./select.ts";
import { ALICE, BOB, sampleConfig } from "../../tests/support/scope_fixtures.ts";
import { applyDiscovery } from "./discovery.ts";
import { loadConfig, serializeConfig } from "../store/config.ts";
import { CliError } from "../core/errors.ts";

function refOf(match: ReturnType<typeof matchContextRef>): string | undefined {
  return match.kind === "found" ? match.context.name : match.kind;
}

Deno.test("refs match in datumctl's order: name, org/project, org, project id, display names", () => {
  const config = sampleConfig();
  const m = (ref: string) => refOf(matchContextRef(config, ALICE, ref));
  assert.equal(m(`${ALICE}/personal`), `${ALICE}/personal`);
  assert.equal(m("acme-corp/web-app"), `${ALICE}/acme-corp/web-app`);
  assert.equal(m("acme-corp"), `${ALICE}/acme-corp`);
  assert.equal(m("sandbox"), `${ALICE}/personal/sandbox`);
  assert.equal(m("ACME Corp/Web App"), `${ALICE}/acme-corp/web-app`);
  assert.equal(m("acme corp"), `${ALICE}/acme-corp`, "display names ignore case");
  assert.equal(m("Web App"), `${ALICE}/acme-corp/web-app`);
  assert.equal(m("nothing"), "none");
});

Deno.test("an org id wins over a project of the same name; ambiguous display names are not guessed", () => {
  const config = sampleConfig();
  applyDiscovery(config, ALICE, [
    {
      id: "acme-corp",
      displayName: "ACME",
      projects: [{ id: "personal", displayName: "Shared" }, { id: "p2", displayName: "Shared" }],
    },
    { id: "personal", displayName: "Personal", projects: [] },
  ]);
  assert.equal(refOf(matchContextRef(config, ALICE, "personal")), `${ALICE}/personal`);
  const shared = matchContextRef(config, ALICE, "Shared");
  assert.equal(shared.kind, "ambiguous");
  assert.throws(() => resolveContextForUse(config, "Shared"), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.code, "CONTEXT_AMBIGUOUS");
    assert.match(
      err.message,
      /acme-corp\/personal, acme-corp\/p2|acme-corp\/p2, acme-corp\/personal/,
    );
    return true;
  });
});

Deno.test("a ref of another session names its email and the auth switch to run", () => {
  const config = sampleConfig();
  config["current-context"] = `${BOB}/acme-corp/infra`;
  assert.throws(() => resolveContextForUse(config, "personal"), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(
      err.message,
      `Context "personal" belongs to the session for alice@example.com, which is not active.`,
    );
    assert.match(err.hint ?? "", /datumctl auth switch alice@example.com/);
    return true;
  });
  // Bob alone on the machine: not found at all.
  config.sessions = config.sessions.filter((s) => s.name === BOB);
  config.contexts = config.contexts.filter((c) => c.session === BOB);
  assert.throws(() => resolveContextForUse(config, "personal"), /Context "personal" not found/);
});

Deno.test("views list orgs then their projects with display names and the current mark", () => {
  const views = contextViews(sampleConfig(), [ALICE]);
  assert.deepEqual(views.map((v) => [v.ref, v.type, v.current]), [
    ["acme-corp", "organization", false],
    ["acme-corp/infra", "project", true],
    ["acme-corp/web-app", "project", false],
    ["personal", "organization", false],
    ["personal/sandbox", "project", false],
  ]);
  assert.equal(views[2].project?.displayName, "Web App");
  assert.equal(views[2].organization.displayName, "ACME Corp");
  assert.equal(views[2].email, "alice@example.com");
});

Deno.test("useContext stores current-context, active-session and last-context atomically", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Deno.writeTextFile(path, await serializeConfig(sampleConfig()));
  const view = await useContext("acme-corp/web-app", { configPath: path });
  assert.equal(view.ref, "acme-corp/web-app");
  const config = await loadConfig(path);
  assert.equal(config["current-context"], `${ALICE}/acme-corp/web-app`);
  assert.equal(config["active-session"], ALICE);
  assert.equal(
    config.sessions.find((s) => s.name === ALICE)?.["last-context"],
    `${ALICE}/acme-corp/web-app`,
  );
  const before = await Deno.readTextFile(path);
  await assert.rejects(() => useContext("nope", { configPath: path }), CliError);
  assert.equal(await Deno.readTextFile(path), before, "a failed use writes nothing");
});
