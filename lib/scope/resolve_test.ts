import assert from "node:assert/strict";
import { emptyConfig } from "../store/config.ts";
import { ALICE, BOB, sampleConfig } from "../../tests/support/scope_fixtures.ts";
import { controlPlaneUrl, NO_CONTEXT_MESSAGE, resolveScope } from "./resolve.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("the current context is used when nothing overrides it", () => {
  const scope = resolveScope(sampleConfig(), { env: noEnv });
  assert.equal(scope.kind, "project");
  assert.equal(scope.projectId, "infra");
  assert.equal(scope.organizationId, "acme-corp");
  assert.equal(scope.projectDisplayName, "Infra");
  assert.equal(scope.sessionName, ALICE);
  assert.equal(scope.contextName, `${ALICE}/acme-corp/infra`);
  assert.equal(scope.source, "current-context");
  assert.equal(scope.override, undefined);
  assert.equal(scope.apiBase, "https://api.datum.net");
});

Deno.test("flags beat env, env beats --context, --context beats the current context", () => {
  const config = sampleConfig();
  const env = envOf({ DATUM_PROJECT: "sandbox", DATUM_CONTEXT: "acme-corp" });

  const flag = resolveScope(config, { project: "web-app", context: "personal", env });
  assert.equal(flag.projectId, "web-app");
  assert.equal(flag.source, "flag");
  assert.equal(flag.reason, "from --project");
  assert.equal(flag.organizationId, "acme-corp");

  const fromEnv = resolveScope(config, { context: "personal", env });
  assert.equal(fromEnv.projectId, "sandbox");
  assert.equal(fromEnv.organizationId, "personal", "org found through the cache");
  assert.equal(fromEnv.reason, "from DATUM_PROJECT");
  assert.equal(fromEnv.override, "DATUM_PROJECT=sandbox");

  const ctxFlag = resolveScope(config, { context: "personal", env: envOf({ DATUM_CONTEXT: "x" }) });
  assert.equal(ctxFlag.kind, "organization");
  assert.equal(ctxFlag.organizationId, "personal");
  assert.equal(ctxFlag.source, "context-flag");

  const ctxEnv = resolveScope(config, { env: envOf({ DATUM_CONTEXT: "acme-corp/web-app" }) });
  assert.equal(ctxEnv.projectId, "web-app");
  assert.equal(ctxEnv.reason, "from DATUM_CONTEXT");

  const orgFlag = resolveScope(config, { organization: "personal", env });
  assert.equal(orgFlag.kind, "organization");
  assert.equal(orgFlag.organizationDisplayName, "Personal");
  assert.equal(orgFlag.projectId, undefined);
});

Deno.test("resolving never changes the config", () => {
  const config = sampleConfig();
  const before = JSON.stringify(config);
  resolveScope(config, { project: "sandbox", env: envOf({ DATUM_ORGANIZATION: "personal" }) });
  resolveScope(config, { context: "personal/sandbox", env: noEnv });
  assert.equal(JSON.stringify(config), before);
});

Deno.test("project and organization at the same level is a usage error", () => {
  assert.throws(
    () => resolveScope(sampleConfig(), { project: "a", organization: "b", env: noEnv }),
    (err: unknown) => err instanceof UsageError && /--project and --organization/.test(err.message),
  );
  assert.throws(
    () =>
      resolveScope(sampleConfig(), {
        env: envOf({ DATUM_PROJECT: "a", DATUM_ORGANIZATION: "b" }),
      }),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === "DATUM_PROJECT and DATUM_ORGANIZATION cannot both be set",
  );
  // At different levels the flag simply wins.
  const scope = resolveScope(sampleConfig(), {
    organization: "personal",
    env: envOf({ DATUM_PROJECT: "infra" }),
  });
  assert.equal(scope.kind, "organization");
});

Deno.test("no context at all is the exact error, exit 1", () => {
  const config = sampleConfig();
  delete config["current-context"];
  assert.throws(() => resolveScope(config, { env: noEnv }), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.message, NO_CONTEXT_MESSAGE);
    assert.equal(err.message, "No context set. Run 'datumctl ctx use' to select a project.");
    assert.equal(err.exitCode, ExitCode.error);
    return true;
  });
  // With no login at all, the error says so (77) instead.
  assert.throws(() => resolveScope(emptyConfig(), { env: noEnv }), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.equal(err.code, "NOT_LOGGED_IN");
    assert.equal(err.exitCode, ExitCode.noPermission);
    return true;
  });
  const tokenOnly = (name: string) => name === "DATUM_TOKEN" ? "t" : undefined;
  assert.throws(() => resolveScope(emptyConfig(), { env: tokenOnly }), /No context set/);
});

Deno.test("an unknown --context is an error naming it; a context of another session is usable", () => {
  const config = sampleConfig();
  assert.throws(
    () => resolveScope(config, { context: "nope", env: noEnv }),
    (err: unknown) => err instanceof CliError && /"nope" \(--context\) not found/.test(err.message),
  );
  const bobs = resolveScope(config, { context: `${BOB}/acme-corp/infra`, env: noEnv });
  assert.equal(bobs.sessionName, BOB);
  assert.equal(bobs.projectId, "infra");
});

Deno.test("--project unknown to the cache still resolves, without an org", () => {
  const scope = resolveScope(sampleConfig(), { project: "elsewhere", env: noEnv });
  assert.equal(scope.projectId, "elsewhere");
  assert.equal(scope.organizationId, undefined);
  assert.equal(scope.sessionName, ALICE);
  assert.equal(
    controlPlaneUrl(scope, "https://api.datum.net"),
    "https://api.datum.net/apis/resourcemanager.miloapis.com/v1alpha1/projects/elsewhere/control-plane",
  );
});

Deno.test("a dangling current context is reported, not silently ignored", () => {
  const config = sampleConfig();
  config["current-context"] = `${ALICE}/gone`;
  assert.throws(
    () => resolveScope(config, { env: noEnv }),
    /"alice@example.com@api.datum.net\/gone" no longer exists/,
  );
});
