/**
 * What a new user is told is true, end to end on the local stack: `DATUM_ENDPOINT` chooses the
 * stored login on that server (or says there is none), a key file's `api_endpoint`/`token_uri`
 * choose where `login --credentials` goes and its `project_id` is `DATUM_CREDENTIALS`' default
 * project, a user with no organization stays logged in (exit 0), `whoami` and `auth status`
 * ask the server (ok, revoked, expired, unreachable), `-o wide` adds HTTPProxy columns,
 * `explain --api-version` names the served version, a project type asked of an organization
 * says where it lives, and `logout` removes the kubectl users of the logins it removes.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { assertSucceeded, makeHome, runCli } from "./support/cli.ts";
import { expireStoredToken, loginFlags } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };

const PROXY = `apiVersion: networking.datumapis.com/v1alpha
kind: HTTPProxy
metadata:
  name: web
spec:
  rules:
  - backends:
    - endpoint: http://127.0.0.1:8080
`;

async function copyHome(from: string): Promise<string> {
  const to = await makeHome();
  const cp = await new Deno.Command("cp", { args: ["-a", `${from}/.`, to] }).output();
  assert.equal(cp.code, 0);
  return to;
}

Deno.test("what datumctl tells a new user is true", async (t) => {
  const stack: LocalStack = await startStack({ autoApprove: "alice@example.com" });
  let stopped = false;
  const home = await makeHome();
  const cli = (args: string[], opts: { env?: Record<string, string>; home?: string } = {}) =>
    runCli(args, { home: opts.home ?? home, env: { ...STORE, ...opts.env } });
  const keyFile = `${home}/key.json`;
  try {
    await Deno.writeTextFile(keyFile, JSON.stringify(await stack.serviceAccountKeyFile()));
    let loginSubject: string | undefined;
    await t.step("log in as alice in acme-corp/infra", async () => {
      const login = await cli(["login", ...loginFlags(stack), "--no-browser", "-o", "json"]);
      assertSucceeded(login, "login");
      loginSubject = JSON.parse(login.stdout).user.subject;
      assert.ok(loginSubject);
      assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"]), "ctx use");
    });

    await t.step("whoami -o json has the subject login -o json has", async () => {
      const who = await cli(["whoami", "-o", "json"]);
      assertSucceeded(who, "whoami");
      assert.equal(JSON.parse(who.stdout).user.subject, loginSubject);
    });

    await t.step(
      "DATUM_ENDPOINT picks the login on that server, or says there is none",
      async () => {
        const elsewhere = await cli(["get", "connectors"], {
          env: { DATUM_ENDPOINT: "https://api.staging.env.datum.net" },
        });
        assert.equal(elsewhere.code, 77, elsewhere.stderr);
        assert.match(
          elsewhere.stderr,
          /DATUM_ENDPOINT=https:\/\/api\.staging\.env\.datum\.net names api\.staging\.env\.datum\.net, where you have no stored login/,
        );
        assert.match(
          elsewhere.stderr,
          /unset DATUM_ENDPOINT to use your login on 127\.0\.0\.1:\d+/,
        );
        const here = await cli(["whoami"], { env: { DATUM_ENDPOINT: stack.api } });
        assertSucceeded(here, "whoami with DATUM_ENDPOINT");
        assert.match(here.stdout, new RegExp(`^Override: +DATUM_ENDPOINT=${stack.api}$`, "m"));
        assert.match(here.stdout, /^Context: +acme-corp\/infra$/m);
        // Two logins on two servers (the stack by IP and by name): it picks the one it names, in the
        // context last used there.
        const two = await makeHome();
        const byName = stack.api.replace("127.0.0.1", "localhost");
        const byNameFlags = ["--endpoint", byName, "--auth-endpoint", stack.issuer];
        assertSucceeded(
          await cli(["login", ...loginFlags(stack), "--no-browser"], { home: two }),
          "login by IP",
        );
        assertSucceeded(await cli(["ctx", "use", "acme-corp/infra"], { home: two }), "ctx use");
        assertSucceeded(
          await cli(
            ["login", ...byNameFlags, "--client-id", stack.clientId, "--no-browser"],
            { home: two },
          ),
          "login by name",
        );
        assertSucceeded(await cli(["ctx", "use", "acme-corp/web-app"], { home: two }), "ctx use");
        const picked = await cli(["whoami"], { home: two, env: { DATUM_ENDPOINT: stack.api } });
        assertSucceeded(picked, "whoami picking the login by IP");
        assert.match(picked.stdout, new RegExp(`^Endpoint: +${new URL(stack.api).host}$`, "m"));
        assert.match(picked.stdout, /^Context: +acme-corp\/infra$/m);
        const plain = await cli(["whoami"], { home: two });
        assert.match(plain.stdout, /^Context: +acme-corp\/web-app$/m);
      },
    );

    await t.step("login --credentials goes where the key file says", async () => {
      const saHome = await makeHome();
      const res = await cli(["login", "--credentials", keyFile], { home: saHome });
      assertSucceeded(res, "login --credentials without endpoint flags");
      const who = await cli(["whoami", "-o", "json"], { home: saHome });
      assertSucceeded(who, "whoami");
      assert.equal(JSON.parse(who.stdout).endpoint, stack.api);
      // A flag still wins over the key file.
      const flagged = await cli(
        ["login", "--credentials", keyFile, "--endpoint", "http://127.0.0.1:9"],
        { home: await makeHome() },
      );
      assert.equal(flagged.code, 2, flagged.stderr);
      assert.match(flagged.stderr, /cannot tell the sign-in server for 127\.0\.0\.1:9/);
    });

    await t.step("DATUM_CREDENTIALS uses the key file's project_id as the project", async () => {
      const ciHome = await makeHome();
      const env = { DATUM_CREDENTIALS: keyFile };
      const who = await cli(["whoami", "-o", "json"], { home: ciHome, env });
      assertSucceeded(who, "whoami");
      const parsed = JSON.parse(who.stdout);
      assert.equal(parsed.project.id, "infra");
      assert.ok(parsed.overrides.includes("DATUM_CREDENTIALS project_id=infra"));
      assertSucceeded(await cli(["get", "connectors"], { home: ciHome, env }), "get connectors");
      const other = await cli(["whoami", "-o", "json"], {
        home: ciHome,
        env: { ...env, DATUM_PROJECT: "web-app" },
      });
      assert.equal(JSON.parse(other.stdout).project.id, "web-app", "DATUM_PROJECT still wins");
    });

    await t.step("a user with no organization is logged in, with nothing to pick", async () => {
      await stack.setAutoApprove("carol@example.com");
      try {
        const carolHome = await makeHome();
        const login = await cli(["login", ...loginFlags(stack), "--no-browser"], {
          home: carolHome,
        });
        assertSucceeded(login, "login as carol");
        assert.match(
          login.stderr,
          /don't have an organization yet, so there is no context to pick/,
        );
        assert.match(login.stderr, /then run 'datumctl ctx --refresh'/);
        const status = await cli(["auth", "status", "-o", "json"], { home: carolHome });
        assertSucceeded(status, "auth status");
        const [only] = JSON.parse(status.stdout).logins;
        assert.equal(only.user.email, "carol@example.com");
        assert.equal(only.active, true);
        assert.equal(only.status, "ok");
      } finally {
        await stack.setAutoApprove("alice@example.com");
      }
    });

    await t.step("get -o wide shows Accepted, Backends and Connector for httpproxies", async () => {
      await Deno.writeTextFile(`${home}/proxy.yaml`, PROXY);
      assertSucceeded(await cli(["apply", "-f", `${home}/proxy.yaml`]), "apply");
      const plain = await cli(["get", "httpproxies"]);
      assertSucceeded(plain, "get");
      const wide = await cli(["get", "httpproxies", "-o", "wide"]);
      assertSucceeded(wide, "get -o wide");
      assert.notEqual(wide.stdout, plain.stdout);
      assert.match(wide.stdout.split("\n")[0], /\bACCEPTED +BACKENDS +CONNECTOR$/);
      assert.match(wide.stdout, /^web .*http:\/\/127\.0\.0\.1:8080 +<none>$/m);
      assert.doesNotMatch(plain.stdout, /BACKENDS/);
    });

    await t.step("explain --api-version with the wrong version names the right one", async () => {
      const res = await cli([
        "explain",
        "connectors",
        "--api-version",
        "networking.datumapis.com/v1alpha",
      ]);
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /serves connectors in networking\.datumapis\.com\/v1alpha1/);
      assert.doesNotMatch(res.stderr, /Did you mean "connectors"/);
      const right = await cli([
        "explain",
        "httpproxies",
        "--api-version",
        "networking.datumapis.com/v1alpha",
      ]);
      assertSucceeded(right, "explain in the served version");
    });

    await t.step("a project type asked of an organization says where it lives", async () => {
      const res = await cli(["get", "httpproxies", "--organization", "acme-corp"]);
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /httpproxies are project resources/);
      assert.match(res.stderr, /Use --project acme-corp\/\S+/);
      assert.doesNotMatch(res.stderr, /doesn't have a resource type/);
      const typo = await cli(["get", "nope", "--organization", "acme-corp"]);
      assert.match(typo.stderr, /doesn't have a resource type "nope"/);
    });

    await t.step("auth status and whoami: a login revoked elsewhere is 77", async () => {
      // Bob's own login: revoking it leaves alice's, which later steps use, alone.
      const copy = await makeHome();
      await stack.setAutoApprove("bob@example.com");
      try {
        const login = await cli(["login", ...loginFlags(stack), "--no-browser"], { home: copy });
        assertSucceeded(login, "login as bob");
      } finally {
        await stack.setAutoApprove("alice@example.com");
      }
      assertSucceeded(await cli(["auth", "status"], { home: copy }), "auth status before");
      // Logging out in a copy of the home revokes the login both copies share.
      const elsewhere = await copyHome(copy);
      assertSucceeded(await cli(["logout"], { home: elsewhere }), "logout elsewhere");
      const status = await cli(["auth", "status", "-o", "json"], { home: copy });
      assert.equal(status.code, 77, status.stderr);
      assert.equal(JSON.parse(status.stdout).logins[0].status, "revoked");
      const human = await cli(["auth", "status"], { home: copy });
      assert.match(human.stdout, /^bob@example\.com +127\.0\.0\.1:\d+ +revoked +\*/m);
      const who = await cli(["whoami"], { home: copy });
      assert.equal(who.code, 77, who.stderr);
      assert.match(who.stderr, /no longer accepts the login of bob@example\.com/);
    });

    await t.step("auth status: a token that ran out and cannot be renewed is expired", async () => {
      const copy = await copyHome(home);
      await expireStoredToken(copy, stack, "alice@example.com");
      await stack.setFault("revoked-refresh-tokens", true);
      try {
        const status = await cli(["auth", "status", "-o", "json"], { home: copy });
        assert.equal(status.code, 77, status.stderr);
        assert.equal(JSON.parse(status.stdout).logins[0].status, "expired");
      } finally {
        await stack.setFault("revoked-refresh-tokens", false);
      }
    });

    await t.step(
      "logout removes the kubectl users and contexts of the removed logins",
      async () => {
        const kubeHome = await copyHome(home);
        assertSucceeded(
          await cli(["auth", "update-kubeconfig", "--project", "infra"], { home: kubeHome }),
          "update-kubeconfig",
        );
        const path = `${kubeHome}/.kube/config`;
        const before = parseYaml(await Deno.readTextFile(path)) as Record<string, unknown[]>;
        assert.equal(before.users.length, 1);
        const res = await cli(["logout", "--all"], { home: kubeHome });
        assertSucceeded(res, "logout --all");
        assert.match(
          res.stderr,
          /Removed kubectl user datum-user-alice@example\.com@\S+ and context datum-project-infra/,
        );
        const after = parseYaml(await Deno.readTextFile(path)) as Record<string, unknown>;
        assert.deepEqual(after.users, []);
        assert.deepEqual(after.contexts, []);
        assert.deepEqual(after.clusters, []);
        assert.equal(after["current-context"], "");
      },
    );

    await t.step(
      "whoami and auth status with the API down: exit 69, not the cached user",
      async () => {
        await stack.stop();
        stopped = true;
        const who = await cli(["whoami"]);
        assert.equal(who.code, 69, who.stderr);
        assert.match(
          who.stderr,
          /cannot reach 127\.0\.0\.1:\d+ to check the login of alice@example\.com/,
        );
        assert.equal(who.stdout, "");
        const status = await cli(["auth", "status", "-o", "json"]);
        assert.equal(status.code, 69, status.stderr);
        assert.equal(JSON.parse(status.stdout).logins[0].status, "unreachable");
      },
    );
  } finally {
    if (!stopped) await stack.stop();
  }
});
