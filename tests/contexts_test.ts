/**
 * Contexts end to end against the local stack: discovery at login, `ctx`, `ctx use`
 * (by ref, through the picker on a real terminal, from another session), the scope rule with
 * its overrides and errors, the onboarding gate, and concurrent config writers.
 */
import assert from "node:assert/strict";
import { cliCommand, type CliResult, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { type LocalStack, startStack } from "./support/stack.ts";
import { loginFlags, tokenAuth } from "./support/auth.ts";
import { startTerminal } from "./support/tmux.ts";
import { loadConfig } from "../lib/store/config.ts";
import { ApiClient } from "../lib/api/client.ts";
import { projectControlPlaneUrl } from "../lib/api/urls.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases";

function loginArgs(stack: LocalStack, extra: string[] = []): string[] {
  return [
    "login",
    ...loginFlags(stack),
    "--no-browser",
    ...extra,
  ];
}

async function login(
  stack: LocalStack,
  email: string,
  extra: string[] = [],
): Promise<{ home: string; res: CliResult }> {
  const home = await makeHome();
  await stack.setAutoApprove(email);
  const res = await runCli(loginArgs(stack, extra), { home, env: STORE });
  return { home, res };
}

function cli(home: string, args: string[], env: Record<string, string> = {}) {
  return runCli(args, { home, env: { ...STORE, ...env } });
}

function configPath(home: string): string {
  return `${home}/.datumctl/config`;
}

function details(res: CliResult): string {
  return `exit ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`;
}

Deno.test("contexts against the local stack", async (t) => {
  const stack = await startStack();
  let probeLease = "no-lease-yet";
  try {
    const alice = await login(stack, "alice@example.com");

    await t.step("alice's login discovers 2 organizations and 4 projects", async () => {
      const { res, home } = alice;
      assert.equal(res.code, 0, details(res));
      assert.match(res.stdout, /You have access to 2 organizations:/);
      assert.match(res.stdout, /^ {2}acme-corp \(3 projects\)$/m);
      assert.match(res.stdout, /^ {2}personal {2}\(1 project\)$/m);
      // No terminal and several contexts: the login stands, with a hint instead of a picker.
      assert.match(res.stderr, /datumctl ctx use/);
      const config = await loadConfig(configPath(home));
      assert.equal(config["current-context"], undefined);
      const ctx = await cli(home, ["ctx", "-o", "json"]);
      assert.equal(ctx.code, 0, details(ctx));
      const views = JSON.parse(ctx.stdout) as { ref: string; type: string }[];
      assert.deepEqual(views.map((v) => v.ref), [
        "acme-corp",
        "acme-corp/billing-api",
        "acme-corp/infra",
        "acme-corp/web-app",
        "personal",
        "personal/sandbox",
      ]);
      assert.equal(views.filter((v) => v.type === "project").length, 4);
      assert.equal(views.filter((v) => v.type === "organization").length, 2);
    });

    await t.step(
      "with no context set, a scoped command prints the exact error, exit 1",
      async () => {
        const probe = await scopedProbe(alice.home);
        assert.equal(probe.code, 1, details(probe));
        assert.equal(
          probe.stderr.split("\n")[0],
          "error: No context set. Run 'datumctl ctx use' to select a project.",
        );
      },
    );

    await t.step("ctx shows display names and ids under the proposal's columns", async () => {
      const res = await cli(alice.home, ["ctx"]);
      assert.equal(res.code, 0, details(res));
      const lines = res.stdout.trimEnd().split("\n");
      assert.match(lines[0], /^ORGANIZATION\s+PROJECT\s+TYPE\s+CURRENT$/);
      assert.ok(
        lines.some((l) => /^ACME Corp \(acme-corp\)\s+Web App \(web-app\)\s+project$/.test(l)),
      );
      assert.ok(lines.some((l) => /^Personal \(personal\)\s+org$/.test(l)));
      assert.equal(lines.length, 7);
    });

    await t.step("ctx use acme-corp/web-app sends scoped requests to web-app", async () => {
      const res = await cli(alice.home, ["ctx", "use", "acme-corp/web-app"]);
      assert.equal(res.code, 0, details(res));
      assert.equal(
        res.stdout.trim(),
        "Switched to project Web App in ACME Corp (acme-corp/web-app)",
      );
      const who = await cli(alice.home, ["whoami", "-o", "json"]);
      assert.equal(who.code, 0, details(who));
      const me = JSON.parse(who.stdout);
      assert.equal(me.context, "acme-corp/web-app");
      assert.equal(me.project.id, "web-app");

      // A lease that exists only in web-app's control plane: the CLI sees it in the current
      // context and not under an override.
      const auth = await tokenAuth(stack, "alice@example.com");
      const name = `probe-${crypto.randomUUID().slice(0, 8)}`;
      await new ApiClient({ auth, baseUrl: projectControlPlaneUrl(stack.api, "web-app") }).create(
        LEASES,
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name },
          spec: { holderIdentity: "contexts-test" },
        },
      );
      probeLease = name;
      const get = await cli(alice.home, ["get", "leases", "-o", "name"]);
      assert.equal(get.code, 0, details(get));
      assert.match(get.stdout, new RegExp(`/${name}$`, "m"));
      const infra = await cli(alice.home, ["get", "leases", "-o", "name", "--project", "infra"]);
      assert.equal(infra.code, 0, details(infra));
      assert.doesNotMatch(infra.stdout, new RegExp(name));
    });

    await t.step("DATUM_PROJECT=sandbox overrides one invocation and changes nothing", async () => {
      const before = await Deno.readTextFile(configPath(alice.home));
      const who = await cli(alice.home, ["whoami", "-o", "json"], { DATUM_PROJECT: "sandbox" });
      assert.equal(who.code, 0, details(who));
      const me = JSON.parse(who.stdout);
      assert.equal(me.project.id, "sandbox");
      assert.equal(me.organization.id, "personal");
      assert.ok(me.overrides.includes("DATUM_PROJECT=sandbox"));
      const human = await cli(alice.home, ["whoami"], { DATUM_PROJECT: "sandbox" });
      assert.match(human.stdout, /Override:\s+DATUM_PROJECT=sandbox/);

      const get = await cli(alice.home, ["get", "leases", "-o", "name"], {
        DATUM_PROJECT: "sandbox",
      });
      assert.equal(get.code, 0, details(get));
      assert.doesNotMatch(get.stdout, new RegExp(probeLease));

      assert.equal(await Deno.readTextFile(configPath(alice.home)), before);
      const ctx = await cli(alice.home, ["ctx", "-o", "json"]);
      const current = (JSON.parse(ctx.stdout) as { ref: string; current: boolean }[])
        .filter((v) => v.current).map((v) => v.ref);
      assert.deepEqual(current, ["acme-corp/web-app"]);
    });

    await t.step("both DATUM_PROJECT and DATUM_ORGANIZATION is a usage error", async () => {
      const probe = await scopedProbe(alice.home, {
        DATUM_PROJECT: "sandbox",
        DATUM_ORGANIZATION: "personal",
      });
      assert.equal(probe.code, 2, details(probe));
      assert.match(probe.stderr, /DATUM_PROJECT and DATUM_ORGANIZATION cannot both be set/);
    });

    await t.step(
      "ctx use by display name and project id; unknown refs and no REF fail",
      async () => {
        let res = await cli(alice.home, ["ctx", "use", "Sandbox"]);
        assert.equal(res.code, 0, details(res));
        assert.match(res.stdout, /Switched to project Sandbox in Personal \(personal\/sandbox\)/);
        res = await cli(alice.home, ["ctx", "use", "billing-api", "-o", "json"]);
        assert.equal(res.code, 0, details(res));
        assert.equal(JSON.parse(res.stdout).ref, "acme-corp/billing-api");
        res = await cli(alice.home, ["ctx", "use", "acme-corp"]);
        assert.equal(res.stdout.trim(), "Switched to organization ACME Corp (acme-corp)");
        res = await cli(alice.home, ["ctx", "use", "nope"]);
        assert.equal(res.code, 1);
        assert.match(res.stderr, /^error: Context "nope" not found\.$/m);
        res = await cli(alice.home, ["ctx", "use"]);
        assert.equal(res.code, 2, "no REF and no terminal is a usage error");
      },
    );

    await t.step("the picker works on a real terminal", async () => {
      const term = await startTerminal(
        [...cliCommand(), "ctx", "use"],
        isolatedEnv(alice.home, STORE),
      );
      try {
        // The search prompt draws its heading before its choices: wait for the list itself.
        const screen = await term.waitFor(/Select a context[\s\S]*\(org\)/);
        assert.match(screen, /ACME Corp \(acme-corp\)\s+\(org\)/);
        // The current context (an organization, from the previous step) is marked.
        assert.match(screen, /\*\s+ACME Corp \(acme-corp\)/);
        assert.match(screen, /Web App \(acme-corp\/web-app\)/);
        await term.type("sandbox");
        // Wait until the search has filtered (web-app gone) so Enter picks the match.
        await term.waitFor(
          /^(?![\s\S]*web-app)[\s\S]*Select a context: sandbox[\s\S]*Sandbox \(personal\/sandbox\)/,
        );
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 0, await term.screen());
      } finally {
        await term.close();
      }
      const config = await loadConfig(configPath(alice.home));
      assert.equal(
        config["current-context"],
        "alice@example.com@" + new URL(stack.api).host + "/personal/sandbox",
      );
    });

    await t.step("login on a terminal offers the picker", async () => {
      const home = await makeHome();
      await stack.setAutoApprove("alice@example.com");
      const term = await startTerminal(
        [...cliCommand(), ...loginArgs(stack)],
        isolatedEnv(home, STORE),
      );
      try {
        const screen = await term.waitFor(/Select a context to work in[\s\S]*acme-corp\/infra/);
        assert.match(screen, /You have access to 2 organizations:/);
        assert.match(screen, /^ {6}Infra \(acme-corp\/infra\)$/m);
        await term.type("infra");
        await term.waitFor(/^(?![\s\S]*web-app)[\s\S]*work in: infra/);
        await term.keys("Enter");
        assert.equal(await term.exitCode(), 0, await term.screen());
        assert.match(await term.screen(), /Context set to acme-corp\/infra/);
      } finally {
        await term.close();
      }
      const config = await loadConfig(configPath(home));
      assert.match(config["current-context"] ?? "", /\/acme-corp\/infra$/);
    });

    await t.step("a stale cache refreshes on the next ctx; --refresh re-discovers", async () => {
      const path = configPath(alice.home);
      const text = await Deno.readTextFile(path);
      await Deno.writeTextFile(
        path,
        text.replace(/last-refreshed: .*/, "last-refreshed: 2000-01-01T00:00:00Z"),
      );
      const res = await cli(alice.home, ["ctx"]);
      assert.equal(res.code, 0, details(res));
      const config = await loadConfig(path);
      assert.ok(Date.parse(config.cache["last-refreshed"]!) > Date.parse("2020-01-01"));
      const again = await cli(alice.home, ["ctx", "--refresh", "-o", "json"]);
      assert.equal(again.code, 0, details(again));
      assert.equal(JSON.parse(again.stdout).length, 6);
    });

    await t.step(
      "an organization that has not finished onboarding gets the portal link",
      async () => {
        await stack.setOnboarding("personal", "BillingAccountMissing");
        try {
          const res = await cli(alice.home, ["get", "leases", "--project", "sandbox"]);
          assert.equal(res.code, 77, details(res));
          assert.equal(
            res.stderr,
            "error: Personal still needs billing set up before you can use datumctl here.\n" +
              `Head to ${stack.api}/org/personal/projects to finish up.\n`,
          );
        } finally {
          await stack.setOnboarding("personal", null);
        }
      },
    );

    await t.step("two concurrent ctx use never corrupt the config", async () => {
      const refs = ["acme-corp/infra", "personal/sandbox", "acme-corp/web-app", "personal"];
      const results = await Promise.all(
        [...refs, ...refs].map((ref) => cli(alice.home, ["ctx", "use", ref])),
      );
      for (const res of results) assert.equal(res.code, 0, details(res));
      const config = await loadConfig(configPath(alice.home));
      assert.equal(config.contexts.length, 6);
      const currentRef = config["current-context"]!.split("/").slice(1).join("/");
      assert.ok(refs.includes(currentRef), currentRef);
      assert.equal(config.sessions.length, 1);
    });

    await t.step("bob cannot ctx use personal", async () => {
      const bob = await login(stack, "bob@example.com");
      assert.equal(bob.res.code, 0, details(bob.res));
      assert.match(bob.res.stdout, /You have access to 1 organization:/);
      const res = await cli(bob.home, ["ctx", "use", "personal"]);
      assert.equal(res.code, 1, details(res));
      assert.match(res.stderr, /Context "personal" not found/);
      const ok = await cli(bob.home, ["ctx", "use", "acme-corp/infra"]);
      assert.equal(ok.code, 0, details(ok));
    });

    await t.step(
      "a second login: ctx --all shows both; another session's ref names it",
      async () => {
        await stack.setAutoApprove("bob@example.com");
        const res = await cli(alice.home, loginArgs(stack, ["--project", "infra"]));
        assert.equal(res.code, 0, details(res));
        const all = await cli(alice.home, ["ctx", "--all"]);
        assert.equal(all.code, 0, details(all));
        assert.match(all.stdout, /^USER\s+ORGANIZATION\s+PROJECT\s+TYPE\s+CURRENT$/m);
        assert.match(
          all.stdout,
          /^bob@example\.com\s+ACME Corp \(acme-corp\)\s+Infra \(infra\)\s+project\s+\*$/m,
        );
        assert.match(all.stdout, /^alice@example\.com\s+Personal \(personal\)\s+org$/m);
        const mine = await cli(alice.home, ["ctx", "-o", "json"]);
        assert.equal(JSON.parse(mine.stdout).length, 4, "only bob's contexts without --all");
        const other = await cli(alice.home, ["ctx", "use", "personal/sandbox"]);
        assert.equal(other.code, 1, details(other));
        assert.equal(
          other.stderr,
          'error: Context "personal/sandbox" belongs to the session for alice@example.com, which is not active.\n' +
            "Run 'datumctl auth switch alice@example.com' first, then 'datumctl ctx use personal/sandbox'.\n",
        );
      },
    );

    await t.step(
      "login into an organization that has not finished onboarding sets no context",
      async () => {
        await stack.setOnboarding("acme-corp", "PaymentMethodNotReady");
        try {
          const res = await login(stack, "alice@example.com", ["--project", "acme-corp/web-app"]);
          assert.equal(res.res.code, 77, details(res.res));
          assert.match(
            res.res.stderr,
            /^error: ACME Corp still needs a payment method on file before you can use datumctl here\.$/m,
          );
          const config = await loadConfig(configPath(res.home));
          assert.equal(config["current-context"], undefined);
          assert.equal(config.sessions.length, 1, "the login is kept");
        } finally {
          await stack.setOnboarding("acme-corp", null);
        }
      },
    );

    await t.step("carol, with no organization, is signed in with nothing to pick", async () => {
      const carol = await login(stack, "carol@example.com");
      assert.equal(carol.res.code, 0, details(carol.res));
      assert.match(
        carol.res.stderr,
        /^You're signed in, but you don't have an organization yet, so there is no context to pick\.$/m,
      );
      assert.doesNotMatch(carol.res.stderr, /\bat .*\.ts:\d+/);
      // The login itself was kept.
      const config = await loadConfig(configPath(carol.home));
      assert.equal(config.sessions.length, 1);
    });

    await t.step("login --project selects without a terminal", async () => {
      const res = await login(stack, "alice@example.com", ["--project", "web-app"]);
      assert.equal(res.res.code, 0, details(res.res));
      const config = await loadConfig(configPath(res.home));
      assert.match(config["current-context"] ?? "", /\/acme-corp\/web-app$/);
    });
  } finally {
    await stack.stop();
  }
});

/** Runs a command that resolves a scope (listing leases in it). */
async function scopedProbe(home: string, env: Record<string, string> = {}): Promise<CliResult> {
  return await cli(home, ["get", "leases"], env);
}

Deno.test("a corrupt config is reported with its path and line and left untouched", async () => {
  const home = await makeHome();
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
  const broken = "sessions:\n  - name: a\n   bad: [\n";
  await Deno.writeTextFile(configPath(home), broken);
  for (const args of [["ctx", "use", "acme-corp"], ["ctx"]]) {
    const res = await cli(home, args);
    assert.equal(res.code, 65, details(res));
    assert.match(res.stderr, new RegExp(`${configPath(home)} \\(line \\d+\\)`));
  }
  assert.equal(await Deno.readTextFile(configPath(home)), broken);
});
