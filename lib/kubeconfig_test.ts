import assert from "node:assert/strict";
import { parse } from "yaml";
import { credentialCommand, kubeconfigPath, writeKubeconfigEntries } from "./kubeconfig.ts";

const EXISTING = `# my clusters
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

Deno.test("kubeconfig: keeps other entries and comments, one user per session", async () => {
  const home = await Deno.makeTempDir();
  // The lock folder follows HOME: this test's own, without touching the process environment.
  const env = (name: string) => (name === "HOME" ? home : Deno.env.get(name));
  try {
    const path = `${home}/kube/config`;
    await Deno.mkdir(`${home}/kube`);
    await Deno.writeTextFile(path, EXISTING);
    const command = { command: "/opt/bin/datumctl", args: [] };
    await writeKubeconfigEntries({
      path,
      name: "datum-project-infra",
      server: "https://api.example.test/apis/x/projects/infra/control-plane",
      sessionName: "alice@example.com@api.example.test",
      interactiveMode: "IfAvailable",
      command,
    }, env);
    const result = await writeKubeconfigEntries({
      path,
      name: "datum-organization-acme-corp",
      server: "https://api.example.test/apis/x/organizations/acme-corp/control-plane",
      sessionName: "bob@example.com@api.example.test",
      interactiveMode: "Never",
      command,
    }, env);
    assert.equal(result.user, "datum-user-bob@example.com@api.example.test");
    const text = await Deno.readTextFile(path);
    assert.match(text, /^# my clusters/);
    assert.match(text, /# local kind/);
    const config = parse(text);
    assert.deepEqual(config.clusters.map((c: { name: string }) => c.name), [
      "kind-dev",
      "datum-project-infra",
      "datum-organization-acme-corp",
    ]);
    assert.equal(config.users.length, 3);
    assert.equal(config["current-context"], "datum-organization-acme-corp");
    const alice = config.users.find((u: { name: string }) => u.name.includes("alice"));
    assert.deepEqual(alice.user.exec.args, [
      "auth",
      "get-token",
      "-o",
      "client.authentication.k8s.io/v1",
      "--session",
      "alice@example.com@api.example.test",
    ]);
    assert.equal(alice.user.exec.interactiveMode, "IfAvailable");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("kubeconfig: an unparsable file is never overwritten", async () => {
  const home = await Deno.makeTempDir();
  // The lock folder follows HOME: this test's own, without touching the process environment.
  const env = (name: string) => (name === "HOME" ? home : Deno.env.get(name));
  try {
    const path = `${home}/config`;
    await Deno.writeTextFile(path, "clusters:\n  - name: a\n   bad: [\n");
    await assert.rejects(
      writeKubeconfigEntries({
        path,
        name: "datum-project-x",
        server: "https://x",
        sessionName: "s",
        interactiveMode: "Never",
      }, env),
      /cannot parse .*config/,
    );
    assert.equal(await Deno.readTextFile(path), "clusters:\n  - name: a\n   bad: [\n");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("kubeconfig: path and command resolution", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(kubeconfigPath("/x", env({ KUBECONFIG: "/y" })), "/x");
  assert.equal(kubeconfigPath(undefined, env({ KUBECONFIG: ":/a:/b", HOME: "/h" })), "/a");
  assert.equal(kubeconfigPath(undefined, env({ HOME: "/h" })), "/h/.kube/config");
  assert.deepEqual(credentialCommand("/usr/local/bin/datumctl", "file:///x/main.ts"), {
    command: "/usr/local/bin/datumctl",
    args: [],
  });
  assert.deepEqual(credentialCommand("/opt/deno/deno", "file:///src/main.ts"), {
    command: "/opt/deno/deno",
    args: ["run", "-A", "--quiet", "/src/main.ts"],
  });
});
