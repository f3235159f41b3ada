/**
 * `auth update-kubeconfig` end to end: one kubeconfig user per session, the target is
 * checked before anything is written, other entries and comments survive, and the exec plugin
 * kubectl would run prints a `client.authentication.k8s.io/v1` ExecCredential whose token the API
 * accepts.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { loginFlags } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import { projectControlPlaneUrl } from "../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

const EXISTING = `# kept: my own clusters
apiVersion: v1
kind: Config
clusters:
- name: kind-dev # local kind
  cluster:
    server: https://127.0.0.1:6443
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: kind-dev}
users:
- name: kind-dev
  user: {token: abc}
current-context: kind-dev
`;

interface ExecUser {
  name: string;
  user: {
    exec: {
      apiVersion: string;
      command: string;
      args: string[];
      interactiveMode: string;
      provideClusterInfo: boolean;
    };
  };
}

Deno.test("update-kubeconfig: one user per session, checked target, working exec plugin", async (t) => {
  const stack: LocalStack = await startStack();
  const home = await makeHome();
  const cli = (args: string[]) => runCli(args, { home, env: STORE });
  const kubeconfig = `${home}/kube/config`;
  const login = async (email: string) => {
    await stack.setAutoApprove(email);
    assertSucceeded(
      await cli([
        "login",
        ...loginFlags(stack),
        "--no-browser",
      ]),
      `login ${email}`,
    );
  };
  try {
    await Deno.mkdir(`${home}/kube`);
    await Deno.writeTextFile(kubeconfig, EXISTING);
    const host = new URL(stack.api).host;
    const alice = `alice@example.com@${host}`;
    const bob = `bob@example.com@${host}`;

    await t.step("a missing project is refused and nothing is written", async () => {
      await login("alice@example.com");
      const res = await cli([
        "auth",
        "update-kubeconfig",
        "--project",
        "nope",
        "--kubeconfig",
        kubeconfig,
      ]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /project "nope" does not exist or you cannot access it/);
      assert.equal(await Deno.readTextFile(kubeconfig), EXISTING);
      const org = await cli([
        "auth",
        "update-kubeconfig",
        "--organization",
        "nope",
        "--kubeconfig",
        kubeconfig,
      ]);
      assert.equal(org.code, 1);
      assert.equal(await Deno.readTextFile(kubeconfig), EXISTING);
    });

    await t.step("two sessions get two users; other entries and comments stay", async () => {
      assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
      const first = await cli(["auth", "update-kubeconfig", "--kubeconfig", kubeconfig]);
      assertSucceeded(first, "update-kubeconfig (current context)");
      assert.match(first.stdout, /datum-project-infra/);

      await login("bob@example.com");
      assertSucceeded(await cli(["ctx", "use", "acme-corp/web-app"]), "ctx use (bob)");
      const second = await cli([
        "auth",
        "update-kubeconfig",
        "--kubeconfig",
        kubeconfig,
      ]);
      assertSucceeded(second, "update-kubeconfig (bob)");
      const org = await cli([
        "auth",
        "update-kubeconfig",
        "--organization",
        "acme-corp",
        "--kubeconfig",
        kubeconfig,
        "--exec-interactive-mode",
        "Never",
        "-o",
        "json",
      ]);
      assertSucceeded(org, "update-kubeconfig --organization");
      assert.equal(JSON.parse(org.stdout).context, "datum-organization-acme-corp");

      const text = await Deno.readTextFile(kubeconfig);
      assert.match(text, /^# kept: my own clusters/);
      assert.match(text, /# local kind/);
      const config = parseYaml(text);
      assert.deepEqual(config.clusters.map((c: { name: string }) => c.name), [
        "kind-dev",
        "datum-project-infra",
        "datum-project-web-app",
        "datum-organization-acme-corp",
      ]);
      const infra = config.clusters.find((c: { name: string }) => c.name === "datum-project-infra");
      assert.equal(infra.cluster.server, projectControlPlaneUrl(stack.api, "infra"));
      assert.equal(config["current-context"], "datum-organization-acme-corp");

      const users = config.users as ExecUser[];
      assert.deepEqual(users.map((u) => u.name), [
        "kind-dev",
        `datum-user-${alice}`,
        `datum-user-${bob}`,
      ]);
      const contexts = config.contexts as { name: string; context: { user: string } }[];
      assert.equal(
        contexts.find((c) => c.name === "datum-project-infra")!.context.user,
        `datum-user-${alice}`,
      );
      assert.equal(
        contexts.find((c) => c.name === "datum-project-web-app")!.context.user,
        `datum-user-${bob}`,
      );
      for (const [user, session] of [[users[1], alice], [users[2], bob]] as const) {
        assert.equal(user.user.exec.apiVersion, "client.authentication.k8s.io/v1");
        assert.ok(user.user.exec.command.startsWith("/"), "the exec command is an absolute path");
        assert.deepEqual(user.user.exec.args.slice(-6), [
          "auth",
          "get-token",
          "-o",
          "client.authentication.k8s.io/v1",
          "--session",
          session,
        ]);
      }
      // The last run for a session sets its user's interactiveMode.
      assert.equal(users[1].user.exec.interactiveMode, "IfAvailable");
      assert.equal(users[2].user.exec.interactiveMode, "Never");
      assert.equal((await Deno.stat(kubeconfig)).mode! & 0o777, 0o600);
    });

    await t.step("the exec plugin prints an ExecCredential the API accepts", async () => {
      const config = parseYaml(await Deno.readTextFile(kubeconfig));
      const user = (config.users as ExecUser[]).find((u) => u.name === `datum-user-${alice}`)!;
      // Run it the way kubectl does: the command and args from the file, kubectl's env var set.
      const out = await new Deno.Command(user.user.exec.command, {
        args: user.user.exec.args,
        env: isolatedEnv(home, {
          ...STORE,
          KUBERNETES_EXEC_INFO: JSON.stringify({
            apiVersion: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            spec: { interactive: false },
          }),
        }),
        clearEnv: true,
        stdin: "null",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const credential = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.equal(credential.kind, "ExecCredential");
      assert.equal(credential.apiVersion, "client.authentication.k8s.io/v1");
      assert.match(credential.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Date.parse(credential.status.expirationTimestamp) > Date.now());
      assert.equal(typeof credential.status.token, "string");

      const server = config.clusters.find((c: { name: string }) => c.name === "datum-project-infra")
        .cluster.server;
      const res = await fetch(
        `${server}/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors`,
        {
          headers: { authorization: `Bearer ${credential.status.token}` },
        },
      );
      assert.equal(res.status, 200);
      assert.equal((await res.json()).kind, "ConnectorList");
    });
  } finally {
    await stack.stop();
  }
});
