/**
 * The verbs a gh or kubectl user reaches for, end to end against the local stack: `version`,
 * `api PATH` (fields, headers, --input, pagination, --jsonpath), `get --sort-by`, `--template`,
 * `get -w` in JSON (objects, not a List; `--output-watch-events`) and as a table (a deleted row
 * keeps its columns).
 */
import assert from "node:assert/strict";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import {
  assertSucceeded,
  cliCommand,
  isolatedEnv,
  makeHome,
  readUntil,
  runCli,
} from "./support/cli.ts";
import { expireStoredToken, loginFlags, tokenAuth } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import { ApiClient } from "../lib/api/client.ts";
import { projectControlPlaneUrl } from "../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";

const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";

function proxy(name: string): string {
  return `apiVersion: networking.datumapis.com/v1alpha
kind: HTTPProxy
metadata:
  name: ${name}
spec:
  rules:
  - backends:
    - endpoint: http://127.0.0.1:8080
`;
}

function connector(name: string, team: string): string {
  return `apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: ${name}
  labels: {team: ${team}}
spec:
  connectorClassName: datum-connect
`;
}

/** A `datumctl …` child whose stdout is read as it arrives. */
function startChild(home: string, args: string[]) {
  const [cmd, ...rest] = cliCommand();
  const child = new Deno.Command(cmd, {
    args: [...rest, ...args],
    env: isolatedEnv(home, STORE),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const seen = { text: "" };
  const stderr = new Response(child.stderr).text();
  return {
    seen,
    until: async (pattern: RegExp) => {
      try {
        await readUntil(reader, seen, pattern);
      } catch (err) {
        try {
          child.kill("SIGINT");
        } catch { /* gone */ }
        throw new Error(`${(err as Error).message}\nstderr:\n${await stderr}`);
      }
    },
    async stop() {
      try {
        child.kill("SIGINT");
      } catch { /* gone */ }
      await reader.cancel().catch(() => {});
      await stderr;
      await child.status;
    },
  };
}

Deno.test("verbs of gh and kubectl users against the local stack", async (t) => {
  const stack: LocalStack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { home, stdin: opts.stdin, env: { ...STORE, ...opts.env } });
  const api = new ApiClient({
    auth: await tokenAuth(stack, "alice@example.com"),
    baseUrl: projectControlPlaneUrl(stack.api, "infra"),
  });
  try {
    await t.step("log in, choose acme-corp/infra, create three connectors", async () => {
      assertSucceeded(await cli(["login", ...loginFlags(stack), "--no-browser"]), "login");
      assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
      // Created in an order that is neither alphabetical nor by team.
      for (const [name, team] of [["beta", "web"], ["alpha", "zeta"], ["gamma", "api"]]) {
        assertSucceeded(await cli(["apply", "-f", "-"], { stdin: connector(name, team) }), name);
      }
    });

    await t.step("version: the client, and the server with --server", async () => {
      const client = await cli(["version"]);
      assertSucceeded(client, "version");
      assert.match(client.stdout, /^Client Version: \d+\.\d+\.\d+\n/);
      assert.doesNotMatch(client.stdout, /Server Version/);
      const both = await cli(["version", "--server", "-o", "json"]);
      assertSucceeded(both, "version --server -o json");
      const parsed = JSON.parse(both.stdout);
      assert.match(parsed.clientVersion.datumctl, /^\d+\.\d+\.\d+/);
      assert.equal(parsed.clientVersion.deno, Deno.version.deno);
      assert.equal(parsed.serverVersion.gitVersion, "v1.33.0-datum-local");
      const text = await cli(["version", "--server"]);
      assert.match(text.stdout, /^Server Version: v1\.33\.0-datum-local$/m);
    });

    await t.step("api PATH: GET, --jsonpath, --paginate, fields, headers, --input", async () => {
      const list = await cli(["api", CONNECTORS]);
      assertSucceeded(list, "api GET");
      assert.deepEqual(
        JSON.parse(list.stdout).items.map((o: { metadata: { name: string } }) => o.metadata.name)
          .sort(),
        ["alpha", "beta", "gamma"],
      );
      // One item per page: --paginate follows continue and prints every item in one list.
      const paged = await cli([
        "api",
        CONNECTORS,
        "--paginate",
        "-F",
        "limit=1",
        "--jsonpath",
        "{.items[*].metadata.name}",
      ]);
      assertSucceeded(paged, "api --paginate");
      assert.deepEqual(paged.stdout.trim().split(" ").sort(), ["alpha", "beta", "gamma"]);
      const onePage = await cli(["api", "-X", "GET", CONNECTORS, "-F", "limit=1"]);
      assert.equal(JSON.parse(onePage.stdout).items.length, 1);
      assert.ok(JSON.parse(onePage.stdout).metadata.continue);

      // Fields make a JSON body; with a body the method defaults to POST.
      const created = await cli([
        "api",
        CONNECTORS,
        "-f",
        "apiVersion=networking.datumapis.com/v1alpha1",
        "-f",
        "kind=Connector",
        "-f",
        "metadata[name]=delta",
        "-f",
        "metadata[labels][team]=web",
        "-f",
        "spec[connectorClassName]=datum-connect",
        "--jsonpath",
        "{.metadata.name} {.metadata.labels.team}",
      ]);
      assertSucceeded(created, "api POST with fields");
      assert.equal(created.stdout, "delta web\n");
      const merged = await cli([
        "api",
        "-X",
        "PATCH",
        `${CONNECTORS}/delta`,
        "-H",
        "Content-Type: application/merge-patch+json",
        "-f",
        "metadata[labels][team]=api",
        "-i",
      ]);
      assertSucceeded(merged, "api PATCH");
      assert.match(merged.stdout, /^HTTP 200 /);
      assert.match(merged.stdout, /^content-type: application\/json/m);
      assert.equal(
        (await api.get<{ metadata: { labels: Record<string, string> } }>(`${CONNECTORS}/delta`))
          .metadata.labels.team,
        "api",
      );

      const patchFile = `${home}/patch.json`;
      await Deno.writeTextFile(
        patchFile,
        JSON.stringify([
          { op: "add", path: "/metadata/labels/extra", value: "yes" },
        ]),
      );
      const jsonPatch = await cli([
        "api",
        "-X",
        "PATCH",
        `${CONNECTORS}/delta`,
        "-H",
        "Content-Type: application/json-patch+json",
        "--input",
        patchFile,
        "--silent",
      ]);
      assertSucceeded(jsonPatch, "api PATCH --input");
      assert.equal(jsonPatch.stdout, "");
      assert.equal(
        (await api.get<{ metadata: { labels: Record<string, string> } }>(`${CONNECTORS}/delta`))
          .metadata.labels.extra,
        "yes",
      );

      const root = await cli(["api", "--root", "/version", "--jsonpath", "{.gitVersion}"]);
      assertSucceeded(root, "api --root");
      assert.equal(root.stdout, "v1.33.0-datum-local\n");

      const missing = await cli(["api", `${CONNECTORS}/nope`]);
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, /"nope" not found/);
      assert.equal(missing.stdout, "");
      const badField = await cli(["api", CONNECTORS, "-f", "novalue"]);
      assert.equal(badField.code, 2);
      assert.match(badField.stderr, /not key=value/);
    });

    await t.step("get --sort-by and --template", async () => {
      const byName = await cli(["get", "connectors", "--sort-by=.metadata.name", "-o", "name"]);
      assertSucceeded(byName, "get --sort-by -o name");
      assert.equal(
        byName.stdout,
        ["alpha", "beta", "delta", "gamma"].map((n) => `connector.networking/${n}\n`).join(""),
      );
      // Tables sort too, by a field that is not a column.
      const byTeam = await cli(["get", "connectors", "--sort-by", "{.metadata.labels.team}"]);
      assertSucceeded(byTeam, "get --sort-by table");
      const names = byTeam.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0]);
      assert.deepEqual(names, ["delta", "gamma", "beta", "alpha"]); // api, api, web, zeta
      const template = await cli([
        "get",
        "connectors",
        "--sort-by=.metadata.name",
        "--template",
        '{range .items[*]}{.metadata.name}={.metadata.labels.team}{"\\n"}{end}',
      ]);
      assertSucceeded(template, "get --template");
      assert.equal(template.stdout, "alpha=zeta\nbeta=web\ndelta=api\ngamma=api\n");
      const clash = await cli(["get", "connectors", "-o", "yaml", "--template", "{.x}"]);
      assert.equal(clash.code, 2);
      assert.match(clash.stderr, /--template cannot be used with -o yaml/);
    });

    await t.step("get -w -o json prints objects (no List), then changes", async () => {
      const watch = startChild(home, ["get", "connectors", "-w", "-o", "json"]);
      try {
        await watch.until(/"name": "gamma"[\s\S]*\n}\n/);
        assert.doesNotMatch(watch.seen.text, /"kind": "List"/);
        await api.patchMerge(`${CONNECTORS}/alpha`, { metadata: { labels: { seen: "1" } } });
        await watch.until(/"seen": "1"/);
      } finally {
        await watch.stop();
      }
      const events = startChild(home, [
        "get",
        "connectors",
        "alpha",
        "-w",
        "-o",
        "json",
        "--output-watch-events",
      ]);
      try {
        await events.until(/"type": "ADDED"[\s\S]*"name": "alpha"[\s\S]*\n}\n/);
        await api.patchMerge(`${CONNECTORS}/alpha`, { metadata: { labels: { seen: "2" } } });
        await events.until(/"type": "MODIFIED"[\s\S]*"seen": "2"/);
        const docs = events.seen.text.trim().split(/\n(?=\{)/).map((d) => JSON.parse(d));
        assert.ok(docs.every((d) => d.type && d.object?.kind === "Connector"), events.seen.text);
      } finally {
        await events.stop();
      }
    });

    await t.step("get -w: a row deleted after the list keeps every column", async () => {
      for (const name of ["front", "back"]) {
        assertSucceeded(await cli(["apply", "-f", "-"], { stdin: proxy(name) }), name);
      }
      const watch = startChild(home, ["get", "httpproxies", "-w"]);
      try {
        await watch.until(/^front\s.*\n/m);
        const header = watch.seen.text.split("\n")[0];
        const columns = header.trim().split(/\s{2,}/).length;
        assert.ok(columns > 2, `expected more than NAME and AGE: ${header}`);
        const before = watch.seen.text.length;
        await api.delete(`${PROXIES}/back`);
        await watch.until(/^back\s[\s\S]*^back\s.*\n/m);
        const deletedLine = watch.seen.text.slice(before).split("\n").find((l) =>
          l.startsWith("back")
        )!;
        assert.equal(deletedLine.trim().split(/\s{2,}/).length, columns, deletedLine);
      } finally {
        await watch.stop();
      }
    });

    await t.step("patch: merge (default) and JSON patch; strategic is refused", async () => {
      const merged = await cli([
        "patch",
        "connectors",
        "gamma",
        "-p",
        '{"metadata":{"labels":{"team":"ops"}}}',
      ]);
      assertSucceeded(merged, "patch merge");
      assert.equal(merged.stdout, "connector.networking/gamma patched\n");
      const json = await cli([
        "patch",
        "connector/gamma",
        "--type",
        "json",
        "-p",
        '[{"op":"add","path":"/metadata/annotations","value":{"note":"x"}}]',
        "-o",
        "jsonpath={.metadata.labels.team} {.metadata.annotations.note}",
      ]);
      assertSucceeded(json, "patch json");
      assert.equal(json.stdout, "ops x");
      const dry = await cli([
        "patch",
        "connectors",
        "gamma",
        "-p",
        "metadata: {labels: {team: dry}}",
        "--dry-run=server",
      ]);
      assertSucceeded(dry, "patch --dry-run=server (YAML patch)");
      assert.equal(dry.stdout, "connector.networking/gamma patched (server dry run)\n");
      const live = await api.get<{ metadata: { labels: Record<string, string> } }>(
        `${CONNECTORS}/gamma`,
      );
      assert.equal(live.metadata.labels.team, "ops");
      const strategic = await cli([
        "patch",
        "connectors",
        "gamma",
        "-p",
        "{}",
        "--type",
        "strategic",
      ]);
      assert.equal(strategic.code, 2);
      assert.match(strategic.stderr, /strategic merge patches are not supported/);
      const badJson = await cli(["patch", "connectors", "gamma", "--type", "json", "-p", "{}"]);
      assert.equal(badJson.code, 2);
      assert.match(badJson.stderr, /list of operations/);
    });

    await t.step("label and annotate: set, --overwrite, remove, --list, -l", async () => {
      const set = await cli(["label", "connectors", "alpha", "beta", "tier=gold"]);
      assertSucceeded(set, "label");
      assert.equal(
        set.stdout,
        "connector.networking/alpha labeled\nconnector.networking/beta labeled\n",
      );
      const again = await cli(["label", "connectors/alpha", "tier=gold"]);
      assert.equal(again.stdout, "connector.networking/alpha not labeled\n");
      const clash = await cli(["label", "connectors", "alpha", "tier=silver"]);
      assert.equal(clash.code, 64);
      assert.match(clash.stderr, /'tier' already has a value \(gold\).*--overwrite is false/);
      assertSucceeded(
        await cli(["label", "connectors", "alpha", "tier=silver", "--overwrite"]),
        "label --overwrite",
      );
      const selected = await cli(["label", "connectors", "-l", "tier", "tier-", "-o", "name"]);
      assertSucceeded(selected, "label -l … tier-");
      assert.equal(
        selected.stdout.split("\n").filter(Boolean).sort().join(","),
        "connector.networking/alpha,connector.networking/beta",
      );
      const listed = await cli(["label", "connectors", "alpha", "--list"]);
      assert.doesNotMatch(listed.stdout, /tier=/);
      assert.match(listed.stdout, /^team=zeta$/m);
      const badKey = await cli(["label", "connectors", "alpha", "bad key=x"]);
      assert.equal(badKey.code, 2);

      const note = await cli(["annotate", "connectors", "alpha", "owner=Ada Lovelace"]);
      assertSucceeded(note, "annotate");
      assert.equal(note.stdout, "connector.networking/alpha annotated\n");
      const annotated = await api.get<{ metadata: { annotations: Record<string, string> } }>(
        `${CONNECTORS}/alpha`,
      );
      assert.equal(annotated.metadata.annotations.owner, "Ada Lovelace");
      assertSucceeded(await cli(["annotate", "connectors", "alpha", "owner-"]), "annotate -");
      const removed = await api.get<{ metadata: { annotations?: Record<string, string> } }>(
        `${CONNECTORS}/alpha`,
      );
      assert.equal(removed.metadata.annotations?.owner, undefined);
    });

    await t.step("wait: a condition, a JSONPath value, deletion, and a timeout (75)", async () => {
      assertSucceeded(await cli(["apply", "-f", "-"], { stdin: proxy("waited") }), "apply");
      const programmed = await cli([
        "wait",
        "httpproxies/waited",
        "--for=condition=Programmed",
        "--timeout=20s",
      ]);
      assertSucceeded(programmed, "wait condition");
      assert.equal(programmed.stdout, "httpproxy.networking/waited condition met\n");
      const live = await api.get<{ status: { conditions: { type: string; status: string }[] } }>(
        `${PROXIES}/waited`,
      );
      assert.ok(live.status.conditions.some((c) => c.type === "Programmed" && c.status === "True"));

      const byPath = await cli([
        "wait",
        "connectors",
        "alpha",
        "--for=jsonpath={.metadata.labels.team}=zeta",
      ]);
      assertSucceeded(byPath, "wait jsonpath");

      const timedOut = await cli([
        "wait",
        "connectors/alpha",
        "--for=condition=Nope",
        "--timeout=1s",
      ]);
      assert.equal(timedOut.code, 75, timedOut.stderr);
      assert.match(timedOut.stderr, /timed out waiting for condition Nope=True on connector/);

      const deletion = cli(["wait", "connectors/delta", "--for=delete", "--timeout=20s"]);
      await new Promise((r) => setTimeout(r, 1500));
      await api.delete(`${CONNECTORS}/delta`);
      const deleted = await deletion;
      assertSucceeded(deleted, "wait --for=delete");
      assert.equal(deleted.stdout, "connector.networking/delta deleted\n");
      const bad = await cli(["wait", "connectors/alpha", "--for=ready"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /invalid --for "ready"/);
    });

    await t.step("describe ends with the object's Events", async () => {
      const alpha = await api.get<{ metadata: { uid: string } }>(`${CONNECTORS}/alpha`);
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      for (
        const [name, uid, reason] of [["alpha", alpha.metadata.uid, "Connected"], [
          "alpha",
          "old-uid",
          "Stale",
        ]]
      ) {
        await api.create("/api/v1/namespaces/default/events", {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${name}.` },
          involvedObject: {
            apiVersion: "networking.datumapis.com/v1alpha1",
            kind: "Connector",
            name,
            namespace: "default",
            uid,
          },
          type: "Normal",
          reason,
          message: `agent \u001b[31mlaptop\u001b[0m is ${reason.toLowerCase()}`,
          count: 3,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: "connector-controller" },
        });
      }
      const described = await cli(["describe", "connectors", "alpha"]);
      assertSucceeded(described, "describe");
      assert.match(
        described.stdout,
        /^Events:\n {2}Type\s+Reason\s+Age\s+From\s+Message\n {2}----\s+------\s+---\s+----\s+-------\n {2}Normal\s+Connected\s+\d+s \(x3 over \d+s\)\s+connector-controller\s+agent \\x1b\[31mlaptop\\x1b\[0m is connected\n$/m,
      );
      assert.doesNotMatch(described.stdout, /Stale/); // another object's (uid) events
      assert.ok(!described.stdout.includes("\u001b"), "no escape sequence reaches the terminal");
      const beta = await cli(["describe", "connectors/beta"]);
      assert.match(beta.stdout, /^Events: {2}<none>$/m);
      const quiet = await cli(["describe", "connectors", "alpha", "--no-show-events"]);
      assert.doesNotMatch(quiet.stdout, /Events:/);
    });

    await t.step("ctx current", async () => {
      const current = await cli(["ctx", "current"]);
      assertSucceeded(current, "ctx current");
      assert.equal(current.stdout, "acme-corp/infra\n");
      const json = JSON.parse((await cli(["ctx", "current", "-o", "json"])).stdout);
      assert.equal(json.ref, "acme-corp/infra");
      assert.equal(json.project.id, "infra");
      const overridden = await cli(["ctx", "current"], { env: { DATUM_PROJECT: "other" } });
      assert.match(overridden.stderr, /DATUM_PROJECT is set and overrides it/);
      const nobody = await runCli(["ctx", "current"], { home: await makeHome(), env: STORE });
      assert.equal(nobody.code, 77);
    });

    await t.step("config view: redacted, --raw, --minify", async () => {
      const path = `${home}/.datumctl/config`;
      const config = parseYaml(await Deno.readTextFile(path)) as {
        sessions: { endpoint: Record<string, unknown>; [k: string]: unknown }[];
      };
      config.sessions[0].endpoint["certificate-authority-data"] = "Q0EgREFUQQ==";
      config.sessions[0]["refresh-token"] = "not-for-sharing";
      await Deno.writeTextFile(path, stringifyYaml(config));
      const view = await cli(["config", "view"]);
      assertSucceeded(view, "config view");
      assert.match(view.stdout, /certificate-authority-data: DATA\+OMITTED/);
      assert.match(view.stdout, /refresh-token: REDACTED/);
      assert.doesNotMatch(view.stdout, /not-for-sharing|Q0EgREFUQQ==/);
      assert.match(view.stdout, /current-context: .*acme-corp\/infra/);
      const raw = await cli(["config", "view", "--raw", "-o", "json"]);
      assert.equal(
        JSON.parse(raw.stdout).sessions[0].endpoint["certificate-authority-data"],
        "Q0EgREFUQQ==",
      );
      const minified = JSON.parse((await cli(["config", "view", "--minify", "-o", "json"])).stdout);
      assert.equal(minified.contexts.length, 1);
      assert.equal(minified.contexts[0].name, minified["current-context"]);
    });

    await t.step("--debug and DATUMCTL_DEBUG trace requests without secrets", async () => {
      const token = (await cli(["auth", "get-token"])).stdout.trim();
      assert.ok(token.length > 20);
      const traced = await cli(["get", "connectors", "--debug"]);
      assertSucceeded(traced, "get --debug");
      assert.match(
        traced.stderr,
        /^debug: \[\d+\] → GET http:\/\/127\.0\.0\.1:\d+\/\S+\/connectors/m,
      );
      assert.match(traced.stderr, /^debug: \[\d+\] {3}authorization: Bearer REDACTED$/m);
      assert.match(traced.stderr, /^debug: \[\d+\] ← 200 OK in \d+ ms/m);
      assert.ok(!traced.stderr.includes(token), "the access token is not traced");
      assert.match(traced.stdout, /^alpha\s/m);
      // A token refresh goes to the token endpoint: traced, its secrets not.
      await expireStoredToken(home, stack, "alice@example.com");
      const refreshed = await cli(["auth", "get-token"], { env: { DATUMCTL_DEBUG: "1" } });
      const fresh = refreshed.stdout.trim();
      assert.match(refreshed.stderr, /^debug: \[\d+\] → POST \S+token/m);
      assert.ok(!refreshed.stderr.includes(fresh), "the new token is not traced");
      const quiet = await cli(["get", "connectors"], { env: { DATUMCTL_DEBUG: "0" } });
      assert.doesNotMatch(quiet.stderr, /debug:/);
    });
  } finally {
    await stack.stop();
  }
});
