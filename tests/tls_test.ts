/**
 * The stack's API over HTTPS with its own CA: datumctl names a TLS failure for what it is,
 * `login --certificate-authority` keeps the CA in the session for every later request,
 * `SSL_CERT_FILE` is honoured, and the real `kubectl` works through `auth update-kubeconfig`'s
 * exec credential (kubectl sends no credentials to a plain-http server).
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { loginFlags } from "./support/auth.ts";
import { startStack } from "./support/stack.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("TLS stack: CA in the session, SSL_CERT_FILE, clear TLS errors, kubectl via exec", async (t) => {
  const stack = await startStack({ tls: true, autoApprove: "alice@example.com" });
  try {
    assert.match(stack.api, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(stack.ca, "the ready line names the CA file");
    const port = new URL(stack.api).port;

    await t.step("an untrusted certificate is reported as such (exit 78, not 69)", async () => {
      const home = await makeHome();
      const login = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
        home,
        env: STORE,
      });
      // Signing in talks to the (plain-http) issuer; only listing contexts meets the API.
      assert.match(login.stderr, /unknown authority/);
      const res = await runCli(["get", "projects", "--organization", "acme-corp"], {
        home,
        env: STORE,
      });
      assert.equal(res.code, 78, res.stderr);
      assert.match(
        res.stderr,
        new RegExp(`certificate signed by an unknown authority for 127\\.0\\.0\\.1:${port}`),
      );
      assert.match(res.stderr, /certificate-authority-data/);
      assert.match(res.stderr, /DENO_CERT/);
      assert.doesNotMatch(res.stderr, /cannot reach/);
    });

    const home = await makeHome();
    const cli = (args: string[], env: Record<string, string> = {}) =>
      runCli(args, { home, env: { ...STORE, ...env } });

    await t.step("login --certificate-authority keeps the CA in the session", async () => {
      assertSucceeded(
        await cli([
          "login",
          ...loginFlags(stack),
          "--no-browser",
          "--certificate-authority",
          stack.ca!,
          "--project",
          "infra",
        ]),
        "login",
      );
      const config = parseYaml(await Deno.readTextFile(`${home}/.datumctl/config`)) as {
        sessions: { endpoint: Record<string, string> }[];
      };
      const data = config.sessions[0].endpoint["certificate-authority-data"];
      assert.equal(atob(data), await Deno.readTextFile(stack.ca!));
      const res = await cli(["get", "connectorclasses", "-o", "name"]);
      assertSucceeded(res, "get connectorclasses");
      assert.match(res.stdout, /datum-connect/);
    });

    await t.step("SSL_CERT_FILE is trusted like DENO_CERT", async () => {
      const other = await makeHome();
      const env = { ...STORE, SSL_CERT_FILE: stack.ca! };
      assertSucceeded(
        await runCli(["login", ...loginFlags(stack), "--no-browser", "--project", "infra"], {
          home: other,
          env,
        }),
        "login with SSL_CERT_FILE",
      );
      const res = await runCli(["get", "connectorclasses", "-o", "name"], { home: other, env });
      assertSucceeded(res, "get with SSL_CERT_FILE");
      const without = await runCli(["get", "connectorclasses"], { home: other, env: STORE });
      assert.equal(without.code, 78, without.stderr);
    });

    await t.step("kubectl through auth update-kubeconfig's exec credential", async () => {
      const kubeconfig = `${home}/kubeconfig`;
      assertSucceeded(
        await cli(["auth", "update-kubeconfig", "--project", "infra", "--kubeconfig", kubeconfig]),
        "update-kubeconfig",
      );
      const out = await new Deno.Command("kubectl", {
        args: ["--kubeconfig", kubeconfig, "get", "connectorclasses", "-o", "name"],
        env: isolatedEnv(home, STORE),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.match(
        new TextDecoder().decode(out.stdout),
        /connectorclass\.networking\.datumapis\.com\/datum-connect/,
      );
    });
  } finally {
    await stack.stop();
  }
});
