/**
 * What a new user is told when something is off, end to end on the local stack: not logged in is
 * exit 77 (not "no context"), a rejected DATUM_TOKEN is named, bad flag values and help topics
 * are usage errors with suggestions, `ctx use` suggests the nearest context, whoami shows a
 * non-production endpoint, `--ignore-not-found` prints nothing, YAML puts apiVersion and kind
 * first, and write verbs' `-o` hints name only what they print.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, makeHome, runCli } from "./support/cli.ts";
import { loginFlags, scriptedBrowser } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

const CONNECTOR = `apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: laptop
spec:
  connectorClassName: datum-connect
`;

Deno.test("messages a new user gets on the local stack", async (t) => {
  const stack: LocalStack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { home, stdin: opts.stdin, env: { ...STORE, ...opts.env } });
  try {
    await t.step("not logged in: exit 77 saying so, not 'No context set'", async () => {
      for (const args of [["get", "projects"], ["get", "connectors"]]) {
        const res = await cli(args);
        assert.equal(res.code, 77, res.stderr);
        assert.match(res.stderr, /No active user found\.\nPlease login first/);
        assert.doesNotMatch(res.stderr, /No context set/);
      }
    });

    await t.step("DATUMCTL_LOGIN_TIMEOUT that is not a number is refused (78)", async () => {
      const res = await cli(["login", ...loginFlags(stack)], {
        env: { DATUMCTL_LOGIN_TIMEOUT: "abc", BROWSER: scriptedBrowser() },
      });
      assert.equal(res.code, 78, res.stderr);
      assert.match(res.stderr, /DATUMCTL_LOGIN_TIMEOUT="abc" is not a number of seconds/);
    });

    await t.step("log in and choose acme-corp/infra", async () => {
      assertSucceeded(await cli(["login", ...loginFlags(stack), "--no-browser"]), "login");
      assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
      assertSucceeded(await cli(["apply", "-f", "-"], { stdin: CONNECTOR }), "apply");
    });

    await t.step("ctx use with a typo suggests the nearest context", async () => {
      const res = await cli(["ctx", "use", "acme-corp/infr"]);
      assert.equal(res.code, 1, res.stderr);
      assert.match(
        res.stderr,
        /Context "acme-corp\/infr" not found\.\nDid you mean "acme-corp\/infra"\?/,
      );
    });

    await t.step("a rejected DATUM_TOKEN is named, not 'run datumctl login'", async () => {
      const res = await cli(["get", "connectors"], { env: { DATUM_TOKEN: "garbage" } });
      assert.equal(res.code, 77, res.stderr);
      assert.match(res.stderr, /DATUM_TOKEN was rejected/);
      assert.doesNotMatch(res.stderr, /Run 'datumctl login'/);
    });

    await t.step("whoami shows an endpoint that is not production", async () => {
      const res = await cli(["whoami"]);
      assertSucceeded(res, "whoami");
      assert.match(res.stdout, new RegExp(`^Endpoint: +${new URL(stack.api).host}$`, "m"));
    });

    await t.step("help for an unknown command and bad flag values are usage errors", async () => {
      const nope = await cli(["help", "tunel"]);
      assert.equal(nope.code, 2);
      assert.equal(nope.stdout, "");
      assert.match(nope.stderr, /unknown command "tunel"[\s\S]*Did you mean "tunnel"\?/);
      const known = await cli(["help", "ctx"]);
      assertSucceeded(known, "help ctx");
      const maybe = await cli(["api-resources", "--namespaced", "maybe"]);
      assert.equal(maybe.code, 2);
      assert.match(maybe.stderr, /--namespaced must be true or false, not "maybe"/);
      const onlyCluster = await cli(["api-resources", "--namespaced", "false", "-o", "name"]);
      assertSucceeded(onlyCluster, "--namespaced false");
      assert.doesNotMatch(onlyCluster.stdout, /connectors/);
    });

    await t.step("--ignore-not-found prints nothing when nothing is there", async () => {
      const named = await cli(["get", "connectors", "ghost", "--ignore-not-found"]);
      assertSucceeded(named, "get NAME --ignore-not-found");
      assert.equal(named.stdout + named.stderr, "");
      const listed = await cli(["get", "connectors", "-l", "team=none", "--ignore-not-found"]);
      assertSucceeded(listed, "get -l --ignore-not-found");
      assert.equal(listed.stdout + listed.stderr, "");
      const namedName = await cli([
        "get",
        "connectors",
        "ghost",
        "--ignore-not-found",
        "-o",
        "name",
      ]);
      assert.equal(namedName.stdout + namedName.stderr, "");
    });

    await t.step("get -o yaml puts apiVersion and kind first", async () => {
      const res = await cli(["get", "connectors", "-o", "yaml"]);
      assertSucceeded(res, "get -o yaml");
      const item = (parseYaml(res.stdout) as { items: Record<string, unknown>[] }).items[0];
      assert.deepEqual(Object.keys(item).slice(0, 3), ["apiVersion", "kind", "metadata"]);
      assert.match(
        res.stdout,
        /^items:\n- apiVersion: networking\.datumapis\.com\/v1alpha1\n {2}kind: Connector\n/m,
      );
    });

    await t.step("apply -o offers only what a write prints", async () => {
      const wide = await cli(["apply", "-f", "-", "-o", "wide"], { stdin: CONNECTOR });
      assert.equal(wide.code, 2);
      assert.doesNotMatch(wide.stderr, /\bwide\b.*\bUse one of\b|Use one of: .*wide/);
      const bogus = await cli(["apply", "-f", "-", "-o", "bogus"], { stdin: CONNECTOR });
      assert.equal(bogus.code, 2);
      assert.match(bogus.stderr, /Use -o name, json, yaml or jsonpath=/);
      assert.doesNotMatch(bogus.stderr, /wide/);
    });
  } finally {
    await stack.stop();
  }
});
