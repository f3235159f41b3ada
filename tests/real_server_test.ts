/**
 * datumctl against the real Kubernetes API server (the stack's `kube` backend, over HTTPS):
 * the behaviours only a real server showed. An organization without `OnboardingComplete` is
 * not blocked; a `DATUM_TOKEN` that is not a JWT is identified by SelfSubjectReview and a token
 * nobody owns is a clear error; an apply conflict lists every field with `--force-conflicts`,
 * while `apply --dry-run=server` and `diff` show the change; `auth update-kubeconfig` and `ctx`
 * work from `DATUM_TOKEN`; a watch opened with a 504 ResourceVersionTooLarge event is retried.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { loginFlags } from "./support/auth.ts";
import { startStack } from "./support/stack.ts";
import { ApiClient } from "../lib/api/client.ts";
import { projectControlPlaneUrl } from "../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const ALICE = "340118051620640717";

Deno.test("datumctl against the real API server", async (t) => {
  const stack = await startStack({
    apiBackend: "kube",
    tls: true,
    autoApprove: "alice@example.com",
  });
  const ca = stack.ca!;
  const home = await makeHome();
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { home, env: { ...STORE, ...env } });
  try {
    assertSucceeded(
      await cli([
        "login",
        ...loginFlags(stack),
        "--no-browser",
        "--certificate-authority",
        ca,
        "--project",
        "infra",
      ]),
      "login",
    );
    const token = (await stack.tokensFor("alice@example.com")).access_token;
    const tokenEnv = { DATUM_TOKEN: token, DATUM_ENDPOINT: stack.api, SSL_CERT_FILE: ca };

    await t.step("no OnboardingComplete condition does not block; False still does", async () => {
      // The seed, like milo, sets no OnboardingComplete on acme-corp.
      const open = await cli(["get", "projects", "--organization", "acme-corp", "-o", "name"]);
      assertSucceeded(open, "get projects with no onboarding condition");
      assert.match(open.stdout, /infra/);
      const orgs = await cli(["get", "organizations"]);
      assert.match(
        orgs.stdout,
        /^acme-corp\s+ACME Corp\s+ready\s/m,
        "absent shows the Ready state",
      );
      await stack.setOnboarding("personal", "BillingAccountMissing");
      const gated = await cli(["get", "projects", "--organization", "personal"]);
      assert.equal(gated.code, 77, gated.stderr);
      await stack.setOnboarding("personal", null);
    });

    await t.step("a non-JWT DATUM_TOKEN is identified by SelfSubjectReview", async () => {
      assert.equal(token.split(".").length === 3, false, "the stack's access tokens are opaque");
      const other = await makeHome();
      const whoami = await runCli(["whoami", "-o", "json"], { home: other, env: tokenEnv });
      assertSucceeded(whoami, "whoami with DATUM_TOKEN");
      const me = JSON.parse(whoami.stdout);
      assert.equal(JSON.stringify(me).includes("alice@example.com"), true, whoami.stdout);
      assert.equal(JSON.stringify(me).includes(ALICE), true, whoami.stdout);
      const orgs = await runCli(["get", "organizations", "-o", "name"], {
        home: other,
        env: tokenEnv,
      });
      assertSucceeded(orgs, "get organizations with DATUM_TOKEN");
      assert.match(orgs.stdout, /acme-corp/);
      const nobody = await runCli(["get", "organizations"], {
        home: other,
        env: { ...tokenEnv, DATUM_TOKEN: "not-a-token-anyone-issued" },
      });
      assert.equal(nobody.code, 77, nobody.stderr);
      // The server's SelfSubjectReview answers 401 for a token nobody issued: it is named as such.
      assert.match(nobody.stderr, /the API server rejected the token in DATUM_TOKEN/);
      assert.doesNotMatch(nobody.stderr, /users\/\//);
    });

    await t.step(
      "apply conflicts: every field, --force-conflicts; dry run and diff show the change",
      async () => {
        const manifest = (team: string, endpoint: string) =>
          [
            "apiVersion: networking.datumapis.com/v1alpha",
            "kind: HTTPProxy",
            "metadata:",
            "  name: shared",
            "  namespace: default",
            `  labels: {team: ${team}}`,
            "spec:",
            "  rules:",
            `  - backends: [{endpoint: "${endpoint}"}]`,
            "",
          ].join("\n");
        // Another tool owns the object's fields first.
        const http = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
        const owned = await fetch(
          `${
            projectControlPlaneUrl(stack.api, "infra")
          }/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies/shared?fieldManager=other-tool`,
          {
            method: "PATCH",
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/apply-patch+yaml",
            },
            body: manifest("ops", "http://127.0.0.1:8080"),
            client: http,
          },
        );
        assert.equal(owned.status, 201, await owned.text());
        http.close();
        const file = `${home}/shared.yaml`;
        await Deno.writeTextFile(file, manifest("web", "http://127.0.0.1:9090"));

        const refused = await cli(["apply", "-f", file]);
        assert.equal(refused.code, 1, refused.stderr);
        assert.match(
          refused.stderr,
          /apply failed with 2 conflicts:\n- \.metadata\.labels\.team .*\n- \.spec\.rules/,
        );
        assert.match(refused.stderr, /--force-conflicts/);

        const dry = await cli(["apply", "-f", file, "--dry-run=server"]);
        assertSucceeded(dry, "apply --dry-run=server");
        assert.match(dry.stderr, /would conflict[^]*\.metadata\.labels\.team[^]*--force-conflicts/);

        const diff = await cli(["diff", "-f", file]);
        assert.equal(diff.code, 1, diff.stderr);
        assert.match(diff.stdout, /^-\s+team: ops$/m);
        assert.match(diff.stdout, /^\+\s+team: web$/m);
        assert.match(diff.stderr, /\.spec\.rules/);

        assertSucceeded(await cli(["apply", "-f", file, "--force-conflicts"]), "forced apply");
      },
    );

    await t.step(
      "auth update-kubeconfig and ctx from DATUM_TOKEN; kubectl through it",
      async () => {
        const other = await makeHome();
        const kubeconfig = `${other}/kubeconfig`;
        assertSucceeded(
          await runCli([
            "auth",
            "update-kubeconfig",
            "--project",
            "infra",
            "--kubeconfig",
            kubeconfig,
          ], {
            home: other,
            env: tokenEnv,
          }),
          "update-kubeconfig from DATUM_TOKEN",
        );
        const doc = parseYaml(await Deno.readTextFile(kubeconfig)) as {
          users: { name: string; user: { exec: { args: string[] } } }[];
        };
        assert.deepEqual(doc.users.map((u) => u.name), ["datum-env-token"]);
        assert.ok(!doc.users[0].user.exec.args.includes("--session"));
        const kubectl = await new Deno.Command("kubectl", {
          args: ["--kubeconfig", kubeconfig, "get", "connectorclasses", "-o", "name"],
          env: isolatedEnv(other, tokenEnv),
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(kubectl.code, 0, new TextDecoder().decode(kubectl.stderr));
        assert.match(new TextDecoder().decode(kubectl.stdout), /datum-connect/);

        const contexts = await runCli(["ctx", "--refresh", "-o", "json"], {
          home: other,
          env: tokenEnv,
        });
        assertSucceeded(contexts, "ctx --refresh from DATUM_TOKEN");
        const refs = (JSON.parse(contexts.stdout) as { ref: string }[]).map((v) => v.ref);
        assert.ok(refs.includes("acme-corp/infra"), contexts.stdout);
      },
    );

    await t.step("a watch opened with 504 ResourceVersionTooLarge is retried", async () => {
      await stack.setFault("watch-rv-too-large", 1);
      const client = new ApiClient({
        auth: {
          kind: "DATUM_TOKEN",
          identity: { email: "alice@example.com", subject: ALICE },
          apiBase: stack.api,
          tokens: {
            accessToken: () => Promise.resolve(token),
            expiry: () => Promise.resolve(undefined),
          },
          caCertificates: [await Deno.readTextFile(ca)],
        },
        baseUrl: projectControlPlaneUrl(stack.api, "infra"),
      });
      const started = Date.now();
      const controller = new AbortController();
      let first: string | undefined;
      for await (
        const event of client.watch<{ metadata?: { name?: string } }>(
          "/apis/networking.datumapis.com/v1alpha1/connectorclasses",
          {
            signal: controller.signal,
          },
        )
      ) {
        first = `${event.type} ${event.object.metadata?.name}`;
        controller.abort();
        break;
      }
      assert.equal(first, "ADDED datum-connect");
      assert.ok(Date.now() - started >= 900, "waited retryAfterSeconds before the second watch");
      const faults = await (await fetch(`${stack.api}/_local/faults`, {
        client: Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] }),
      })).json();
      assert.equal(faults["watch-rv-too-large"], 0, "the first watch did get the ERROR event");
    });
  } finally {
    await stack.stop();
  }
});
