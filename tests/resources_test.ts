/**
 * Resource verbs end to end against the local stack: apply of a two-document manifest
 * into acme-corp/infra (twice: the second is a no-op), get in every output format, organizations
 * and projects, describe, diff exit codes, dry runs, edit, watch seeing another client's change,
 * delete -f, api-resources, explain, and "did you mean".
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
  assertSucceeded,
  cliCommand,
  isolatedEnv,
  makeHome,
  readUntil,
  runCli,
} from "./support/cli.ts";
import { loginFlags, tokenAuth } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import { ApiClient } from "../lib/api/client.ts";
import { projectControlPlaneUrl } from "../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

const MANIFEST = `# a connector and the proxy that uses it
apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: laptop
  labels:
    team: web
spec:
  connectorClassName: datum-connect
---
apiVersion: networking.datumapis.com/v1alpha
kind: HTTPProxy
metadata:
  name: staging
  annotations:
    app.kubernetes.io/name: staging
spec:
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backends:
    - endpoint: http://127.0.0.1:8080
      connector: {name: laptop}
`;

/** Lines of `text` with trailing spaces and empty lines dropped. */
function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
}

Deno.test("resource verbs against the local stack", async (t) => {
  const stack: LocalStack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { home, stdin: opts.stdin, env: { ...STORE, ...opts.env } });
  try {
    const dir = await Deno.makeTempDir({ prefix: "datumctl-manifests-" });
    const manifest = `${dir}/app.yaml`;
    await Deno.writeTextFile(manifest, MANIFEST);

    await t.step("log in and choose acme-corp/infra", async () => {
      assertSucceeded(
        await cli([
          "login",
          ...loginFlags(stack),
          "--no-browser",
        ]),
        "login",
      );
      assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
    });

    await t.step("apply creates both documents, a second apply is a no-op", async () => {
      const first = await cli(["apply", "-f", manifest]);
      assertSucceeded(first, "apply");
      assert.deepEqual(lines(first.stdout), [
        "connector.networking/laptop created",
        "httpproxy.networking/staging created",
      ]);
      const second = await cli(["apply", "-f", manifest]);
      assertSucceeded(second, "second apply");
      assert.deepEqual(lines(second.stdout), [
        "connector.networking/laptop unchanged",
        "httpproxy.networking/staging unchanged",
      ]);
    });

    await t.step("get: table, wide, labels and selectors", async () => {
      const table = await cli(["get", "httpproxies"]);
      assertSucceeded(table, "get table");
      const [header, row] = lines(table.stdout);
      assert.match(header, /^NAME\s+HOSTNAME\s+PROGRAMMED\s+CERTIFICATES\s+AGE$/);
      assert.match(row, /^staging\s+\S+\.datumproxy\.\S+\s/);

      const both = await cli(["get", "connectors,httpproxies"]);
      assertSucceeded(both, "get two types");
      assert.match(both.stdout, /^connector\.networking\/laptop\s/m);
      assert.match(both.stdout, /^httpproxy\.networking\/staging\s/m);

      const labelled = await cli(["get", "connectors", "--show-labels", "-l", "team=web"]);
      assertSucceeded(labelled, "get -l");
      assert.match(labelled.stdout, /^NAME\s+AGE\s+LABELS\nlaptop\s+\S+\s+team=web\n$/);
      const none = await cli(["get", "connectors", "-l", "team=nobody"]);
      assertSucceeded(none, "get -l (no match)");
      assert.equal(none.stdout, "");
      assert.match(none.stderr, /No resources found in default namespace\./);
      const byField = await cli([
        "get",
        "connectors",
        "--field-selector",
        "metadata.name=laptop",
        "-o",
        "name",
      ]);
      assertSucceeded(byField, "get --field-selector");
      assert.equal(byField.stdout, "connector.networking/laptop\n");
    });

    await t.step("get: json, yaml, name, jsonpath, custom-columns", async () => {
      const json = await cli(["get", "httpproxy", "staging", "-o", "json"]);
      assertSucceeded(json, "get -o json");
      const object = JSON.parse(json.stdout);
      assert.equal(object.kind, "HTTPProxy");
      assert.equal(object.spec.rules[0].backends[0].endpoint, "http://127.0.0.1:8080");

      const list = await cli(["get", "connectors", "-o", "yaml"]);
      assertSucceeded(list, "get -o yaml");
      const parsed = parseYaml(list.stdout);
      assert.equal(parsed.kind, "List");
      assert.deepEqual(parsed.items.map((i: { metadata: { name: string } }) => i.metadata.name), [
        "laptop",
      ]);
      assert.equal(parsed.items[0].kind, "Connector");

      const names = await cli(["get", "connector/laptop", "httpproxy/staging", "-o", "name"]);
      assertSucceeded(names, "get -o name");
      assert.equal(names.stdout, "connector.networking/laptop\nhttpproxy.networking/staging\n");
      // What -o name prints resolves back.
      assertSucceeded(await cli(["get", "connector.networking/laptop"]), "get by -o name output");

      const jsonpath = await cli([
        "get",
        "httpproxies",
        "-o",
        'jsonpath={range .items[*]}{.metadata.name}={.spec.rules[0].backends[0].connector.name}{"\\n"}{end}',
      ]);
      assertSucceeded(jsonpath, "get -o jsonpath");
      assert.equal(jsonpath.stdout, "staging=laptop\n");

      const columns = await cli([
        "get",
        "connectors",
        "-o",
        "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team,MISSING:.spec.nothing",
      ]);
      assertSucceeded(columns, "get -o custom-columns");
      assert.deepEqual(lines(columns.stdout).map((l) => l.split(/\s+/)), [
        ["NAME", "TEAM", "MISSING"],
        ["laptop", "web", "<none>"],
      ]);
    });

    await t.step("a typo gets a suggestion; a missing name is NotFound", async () => {
      const typo = await cli(["get", "conectors"]);
      assert.equal(typo.code, 1);
      assert.match(typo.stderr, /the server doesn't have a resource type "conectors"/);
      assert.match(typo.stderr, /Did you mean "connectors"\?/);
      const missing = await cli(["get", "httpproxy", "nope"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /"nope" not found/);
      const ignored = await cli(["get", "httpproxy", "nope", "--ignore-not-found"]);
      assertSucceeded(ignored, "--ignore-not-found");
    });

    await t.step("organizations (user control plane) and projects (organization)", async () => {
      await stack.setOnboarding("personal", "BillingAccountMissing");
      try {
        const orgs = await cli(["get", "organizations"]);
        assertSucceeded(orgs, "get organizations");
        assert.deepEqual(
          lines(orgs.stdout).map((l) => l.split(/\s{2,}/)).map((c) => c.slice(0, 3)),
          [
            ["ORGANIZATION", "DISPLAY NAME", "STATUS"],
            ["acme-corp", "ACME Corp", "ready"],
            ["personal", "Personal", "billing setup needed"],
          ],
        );
        assert.match(orgs.stderr, /Some organizations still need setup/);
        assert.match(orgs.stderr, /\/org\/personal\/projects/);
        const wide = await cli(["get", "orgs", "-o", "wide"]);
        assertSucceeded(wide, "get orgs -o wide");
        assert.match(lines(wide.stdout)[0], /^ORGANIZATION\s+DISPLAY NAME\s+STATUS\s+AGE\s+USER$/);
        assert.match(wide.stdout, /alice@example\.com/);
        const names = await cli(["get", "organizations", "-o", "name"]);
        assertSucceeded(names, "get organizations -o name");
        assert.equal(names.stdout, "organization/acme-corp\norganization/personal\n");
      } finally {
        await stack.setOnboarding("personal", null);
      }

      const projects = await cli(["get", "projects"]);
      assertSucceeded(projects, "get projects");
      const rows = lines(projects.stdout);
      assert.match(rows[0], /^NAME\s+DISPLAY NAME\s/);
      assert.deepEqual(rows.slice(1).map((r) => r.split(/\s+/)[0]), [
        "billing-api",
        "infra",
        "web-app",
      ]);
      const sandbox = await cli(["get", "projects", "--organization", "personal", "-o", "name"]);
      assertSucceeded(sandbox, "get projects --organization");
      assert.equal(sandbox.stdout, "project.resourcemanager/sandbox\n");
    });

    await t.step("describe", async () => {
      const res = await cli(["describe", "httpproxy", "staging"]);
      assertSucceeded(res, "describe");
      assert.match(res.stdout, /^Name:\s+staging$/m);
      assert.match(res.stdout, /^Kind:\s+HTTPProxy$/m);
      assert.match(res.stdout, /Endpoint:\s+http:\/\/127\.0\.0\.1:8080/);
    });

    await t.step("diff: 0 when the same, 1 after a local edit, >1 on error", async () => {
      const same = await cli(["diff", "-f", manifest]);
      assert.equal(same.code, 0, same.stderr);
      assert.equal(same.stdout, "");

      const edited = `${dir}/edited.yaml`;
      await Deno.writeTextFile(edited, MANIFEST.replace("8080", "9090"));
      const differs = await cli(["diff", "-f", edited]);
      assert.equal(differs.code, 1, differs.stderr);
      assert.match(
        differs.stdout,
        /^--- LIVE\/networking\.datumapis\.com\.v1alpha\.HTTPProxy\.default\.staging$/m,
      );
      // Keys come sorted, as the real API server writes a custom resource.
      assert.match(differs.stdout, /^- {6}endpoint: http:\/\/127\.0\.0\.1:8080$/m);
      assert.match(differs.stdout, /^\+ {6}endpoint: http:\/\/127\.0\.0\.1:9090$/m);
      assert.doesNotMatch(differs.stdout, /resourceVersion|managedFields/);

      const broken = await cli(["diff", "-f", `${dir}/does-not-exist.yaml`]);
      assert.ok(broken.code > 1, `exit ${broken.code}`);

      // A server dry run reports the change without making it.
      const dry = await cli(["apply", "-f", edited, "--dry-run=server"]);
      assertSucceeded(dry, "apply --dry-run=server");
      assert.match(dry.stdout, /^httpproxy\.networking\/staging configured \(server dry run\)$/m);
      const after = await cli([
        "get",
        "httpproxy",
        "staging",
        "-o",
        "jsonpath={.spec.rules[0].backends[0].endpoint}",
      ]);
      assert.equal(after.stdout, "http://127.0.0.1:8080");
    });

    await t.step("edit: saved changes apply; an untouched file cancels", async () => {
      const editor = `${dir}/editor.sh`;
      await Deno.writeTextFile(editor, "#!/bin/sh\nsed -i 's/team: web/team: edited/' \"$1\"\n");
      await Deno.chmod(editor, 0o755);
      const edited = await cli(["edit", "connector", "laptop"], { env: { EDITOR: editor } });
      assertSucceeded(edited, "edit");
      assert.equal(edited.stdout, "connector.networking/laptop edited\n");
      const label = await cli([
        "get",
        "connector",
        "laptop",
        "-o",
        "jsonpath={.metadata.labels.team}",
      ]);
      assert.equal(label.stdout, "edited");
      const cancelled = await cli(["edit", "connector/laptop"], { env: { KUBE_EDITOR: "true" } });
      assertSucceeded(cancelled, "edit without changes");
      assert.equal(cancelled.stdout, "Edit cancelled, no changes made.\n");
    });

    await t.step("watch sees a change made by another client", async () => {
      const child = new Deno.Command(cliCommand()[0], {
        args: [
          ...cliCommand().slice(1),
          "get",
          "connectors",
          "laptop",
          "-w",
          "-o",
          "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team",
        ],
        env: isolatedEnv(home, STORE),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const seen = { text: "" };
      try {
        await readUntil(reader, seen, /laptop\s+edited\n/);
        // Another client: a plain API client with its own token.
        const client = new ApiClient({
          auth: await tokenAuth(stack, "alice@example.com"),
          baseUrl: projectControlPlaneUrl(stack.api, "infra"),
        });
        await client.patchMerge(
          "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors/laptop",
          { metadata: { labels: { team: "watched" } } },
        );
        await readUntil(reader, seen, /laptop\s+watched\n/);
        // Rows after the first come without a repeated header.
        assert.equal(seen.text.match(/^NAME/gm)?.length, 1);
      } finally {
        child.kill("SIGTERM");
        await reader.cancel().catch(() => {});
        await child.status;
      }
    });

    await t.step("create -f - refuses what exists; delete -f removes both", async () => {
      const again = await cli(["create", "-f", "-"], { stdin: MANIFEST });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);

      const deleted = await cli(["delete", "-f", manifest]);
      assertSucceeded(deleted, "delete -f");
      assert.deepEqual(lines(deleted.stdout), [
        "connector.networking/laptop deleted",
        "httpproxy.networking/staging deleted",
      ]);
      const empty = await cli(["get", "httpproxies"]);
      assertSucceeded(empty, "get after delete");
      assert.equal(empty.stdout, "");
      const twice = await cli(["delete", "-f", manifest]);
      assert.equal(twice.code, 1);
      assertSucceeded(
        await cli(["delete", "-f", manifest, "--ignore-not-found"]),
        "delete --ignore-not-found",
      );

      const created = await cli(["create", "-f", "-"], { stdin: MANIFEST });
      assertSucceeded(created, "create -f -");
      assert.deepEqual(lines(created.stdout), [
        "connector.networking/laptop created",
        "httpproxy.networking/staging created",
      ]);
      // The scope rule: another project does not see them.
      const elsewhere = await cli(["get", "httpproxies", "-o", "name", "--project", "web-app"]);
      assertSucceeded(elsewhere, "get --project web-app");
      assert.equal(elsewhere.stdout, "");
      const byName = await cli(["delete", "httpproxy", "staging"]);
      assertSucceeded(byName, "delete by name");
      assert.equal(byName.stdout, "httpproxy.networking/staging deleted\n");
    });

    await t.step("api-resources, api-versions and explain", async () => {
      const resources = await cli(["api-resources"]);
      assertSucceeded(resources, "api-resources");
      assert.match(
        lines(resources.stdout)[0],
        /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/,
      );
      assert.match(
        resources.stdout,
        /^httpproxies\s+networking\.datumapis\.com\/v1alpha\s+true\s+HTTPProxy$/m,
      );
      assert.match(resources.stdout, /^trafficprotectionpolicies\s+tpp\s/m);
      const versions = await cli(["api-versions"]);
      assertSucceeded(versions, "api-versions");
      assert.match(versions.stdout, /^networking\.datumapis\.com\/v1alpha1$/m);

      const explain = await cli(["explain", "httpproxies.spec.rules"]);
      assertSucceeded(explain, "explain");
      assert.match(explain.stdout, /^KIND:\s+HTTPProxy$/m);
      assert.match(explain.stdout, /^FIELD: rules <\[\]Object>$/m);
      assert.match(explain.stdout, /^ {2}backends\t<\[\]Object>/m);
      const wrong = await cli(["explain", "connectors.spec.nope"]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /field "nope" does not exist/);
    });
  } finally {
    await stack.stop();
  }
});
