/**
 * Tunnel services end to end on the local stack: `tunnel install`
 * writes a definition and a systemd unit that `systemd-analyze verify` accepts, reloads and
 * enables it; every install check fails with its exit code and leaves nothing behind;
 * `uninstall` removes both, `--purge` also the server tunnel; `tunnel run --name` serves the
 * installed definition through the gateway and stops cleanly on SIGTERM.
 *
 * No systemd manager runs in a container: tests/support/fake-systemctl.ts stands in for
 * `systemctl` (argv recorded, failures on request, the real `--version`).
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import {
  loginHome,
  projectApi,
  publicGet,
  serviceAccountHome,
  startOrigin,
  startTunnelProcess,
  tunnelEnv,
} from "./support/tunnel.ts";
import { TUNNEL_KINDS } from "../lib/tunnel/resources.ts";
import { pathExists } from "../lib/store/files.ts";
import { hostPort } from "./support/auth.ts";
import { fakeSystemctl } from "./support/fake-systemctl.ts";

const SA_EMAIL = "ci-deployer@acme-corp.iam.datumapis.com";

/** `systemd-analyze [--user] verify <unit>` with a runtime folder of its own. */
async function verifyUnit(path: string, user: boolean): Promise<{ code: number; output: string }> {
  const runtime = await Deno.makeTempDir({ prefix: "systemd-runtime-" });
  await Deno.chmod(runtime, 0o700);
  const out = await new Deno.Command("systemd-analyze", {
    args: [...(user ? ["--user"] : []), "verify", path],
    env: { XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: "0" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("tunnel install/uninstall/start/run as systemd services", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  const origin = startOrigin();
  const fake = await fakeSystemctl();
  try {
    const home = await loginHome(stack, "alice@example.com");
    const env = tunnelEnv(stack, {
      PATH: `${fake.bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      FAKE_SYSTEMCTL_LOG: fake.log,
    });
    const session = `alice@example.com@${hostPort(stack.api)}`;
    const definitionPath = (n: string) => `${home}/.datumctl/services/${n}.yaml`;
    const userUnit = (n: string) =>
      `${home}/.config/systemd/user/datumctl-connect-user-${n}.service`;
    const install = (args: string[], extra: Record<string, string> = {}, h = home) =>
      runCli(["tunnel", "install", ...args], { home: h, env: { ...env, ...extra } });

    await t.step("--dry-run checks, prints unit and definition, writes nothing", async () => {
      const res = await install([
        "--name",
        "web",
        "--endpoint",
        String(origin.port),
        "--dry-run",
        "-o",
        "json",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const doc = JSON.parse(res.stdout);
      assert.equal(doc.dry_run, true);
      assert.equal(doc.unit.name, "datumctl-connect-user-web.service");
      assert.equal(doc.unit.path, userUnit("web"));
      assert.match(doc.unit.content, /^ExecStart=.* tunnel run --name web$/m);
      assert.equal(doc.definition.path, definitionPath("web"));
      assert.equal(doc.definition.project, "infra");
      assert.equal(doc.definition.session, session);
      assert.equal(doc.definition.endpoint, `http://localhost:${origin.port}`);
      assert.equal(await pathExists(definitionPath("web")), false);
      assert.equal(await pathExists(userUnit("web")), false);
      assert.deepEqual(await fake.calls(), [], "a dry run never calls systemctl");

      // The other managers' files come from the same definition.
      for (
        const [platform, file] of [["launchd", /\.plist$/], ["windows", /\.task\.xml$/]] as const
      ) {
        const other = await install([
          "--name",
          "web",
          "--endpoint",
          String(origin.port),
          "--dry-run",
          "--platform",
          platform,
          "-o",
          "json",
        ]);
        assert.equal(other.code, 0, other.stderr);
        const rendered = JSON.parse(other.stdout);
        assert.equal(rendered.manager, platform);
        assert.match(rendered.unit.path, file);
        assert.match(rendered.unit.content, /<string>web<\/string>|-EncodedCommand /);
        assert.equal(await pathExists(rendered.unit.path), false);
      }
      const notDry = await install(["--name", "web", "--endpoint", "80", "--platform", "launchd"]);
      assert.equal(notDry.code, 2, notDry.stderr);
    });

    await t.step("install writes definition + unit, daemon-reload, enable --now", async () => {
      const res = await install(["--name", "web", "--endpoint", String(origin.port)]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /warning: .*a person's login/);
      assert.match(res.stdout, /Installed tunnel service web/);
      const definition = parseYaml(await Deno.readTextFile(definitionPath("web")));
      assert.deepEqual(
        { ...definition, created_at: typeof definition.created_at },
        {
          name: "web",
          label: "web",
          endpoint: `http://localhost:${origin.port}`,
          project: "infra",
          session,
          org: "acme-corp",
          api_host: hostPort(stack.api),
          scope: "user",
          created_at: "string",
          created_by: "alice@example.com",
        },
      );
      assert.equal((await Deno.stat(definitionPath("web"))).mode! & 0o777, 0o600);
      const unit = await Deno.readTextFile(userUnit("web"));
      assert.match(unit, /^Restart=on-failure$/m);
      assert.match(unit, /^RestartPreventExitStatus=64 65 77 78$/m);
      assert.match(unit, new RegExp(`^Environment=HOME=${home}$`, "m"));
      assert.match(unit, /^WantedBy=default\.target$/m);
      assert.doesNotMatch(unit, /StateDirectory/);
      const calls = await fake.calls();
      assert.deepEqual(calls.filter((c) => c !== "--version"), [
        "--user daemon-reload",
        "--user enable --now datumctl-connect-user-web.service",
      ]);
    });

    await t.step("the rendered unit passes systemd-analyze verify", async () => {
      const { code, output } = await verifyUnit(userUnit("web"), true);
      assert.equal(code, 0, output);
      assert.equal(output.trim(), "", "no warnings (e.g. keys this systemd does not know)");
    });

    await t.step("a second install of the same name is refused (64)", async () => {
      const res = await install(["--name", "web", "--endpoint", "9999"]);
      assert.equal(res.code, 64, res.stderr);
      assert.match(res.stderr, /already installed/);
    });

    await t.step("start asks systemctl to start the unit", async () => {
      await Deno.remove(fake.log).catch(() => {});
      const res = await runCli(["tunnel", "start", "--name", "web"], { home, env });
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(await fake.calls(), ["--user start datumctl-connect-user-web.service"]);
    });

    await t.step("status shows the service; stop goes through systemctl", async () => {
      const status = await runCli(["tunnel", "status", "--name", "web", "-o", "json"], {
        home,
        env,
      });
      assert.equal(status.code, 0, status.stderr);
      const service = JSON.parse(status.stdout).service;
      assert.equal(service.unit, "datumctl-connect-user-web.service");
      assert.equal(service.active, true);
      const text = await runCli(["tunnel", "status", "--name", "web"], { home, env });
      assert.match(
        text.stdout,
        /^Service:\s+datumctl-connect-user-web\.service \(systemd user\): /m,
      );
      const ps = await runCli(["tunnel", "ps", "--all", "-o", "json"], { home, env });
      const rows = JSON.parse(ps.stdout) as { name: string; installed: boolean; state: string }[];
      assert.deepEqual(
        rows.filter((r) => r.name === "web").map((r) => [r.installed, r.state]),
        [[true, "stopped"]],
        "an installed service that has not run yet is listed",
      );
      await Deno.remove(fake.log).catch(() => {});
      const res = await runCli(["tunnel", "stop", "--name", "web"], { home, env });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^Stopped service datumctl-connect-user-web\.service/);
      const calls = (await fake.calls()).filter((c) => !c.includes(" show "));
      assert.deepEqual(calls, ["--user stop datumctl-connect-user-web.service"]);
    });

    await t.step("uninstall disables it and removes unit and definition", async () => {
      await Deno.remove(fake.log).catch(() => {});
      const res = await runCli(["tunnel", "uninstall", "--name", "web"], { home, env });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(await pathExists(definitionPath("web")), false);
      assert.equal(await pathExists(userUnit("web")), false);
      assert.deepEqual(await fake.calls(), [
        "--user disable --now datumctl-connect-user-web.service",
        "--user daemon-reload",
      ]);
      const again = await runCli(["tunnel", "uninstall", "--name", "web"], { home, env });
      assert.equal(again.code, 64, again.stderr);
    });

    await t.step("a failing systemctl fails the install and leaves nothing behind", async () => {
      await Deno.remove(fake.log).catch(() => {});
      const res = await install(["--name", "web", "--endpoint", String(origin.port)], {
        FAKE_SYSTEMCTL_FAIL: "enable",
      });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /enable --now datumctl-connect-user-web\.service' failed/);
      assert.equal(await pathExists(definitionPath("web")), false);
      assert.equal(await pathExists(userUnit("web")), false);
      assert.ok(
        (await fake.calls()).includes("--user disable --now datumctl-connect-user-web.service"),
      );
    });

    await t.step(
      "no systemctl on PATH: exit 78 pointing at --detach, nothing written",
      async () => {
        const empty = await Deno.makeTempDir();
        const res = await install(["--name", "web", "--endpoint", String(origin.port)], {
          PATH: empty,
        });
        assert.equal(res.code, 78, res.stderr);
        assert.match(res.stderr, /systemd is not available/);
        assert.match(res.stderr, /tunnel listen --detach --name web/);
        assert.equal(await pathExists(definitionPath("web")), false);
        assert.equal(await pathExists(userUnit("web")), false);
      },
    );

    await t.step("--system with a person's login: exit 78, nothing written", async () => {
      const unitDir = await Deno.makeTempDir();
      const res = await install(["--name", "sys", "--endpoint", "8080", "--system"], {
        DATUMCTL_SYSTEMD_UNIT_DIR: unitDir,
      });
      assert.equal(res.code, 78, res.stderr);
      assert.match(res.stderr, /--system needs a service-account session/);
      assert.match(res.stderr, /datumctl login --credentials/);
      assert.equal(await pathExists(definitionPath("sys")), false);
      assert.deepEqual([...Deno.readDirSync(unitDir)], []);
    });

    await t.step("a session that may not use the project: exit 77, nothing written", async () => {
      // bob is in acme-corp only; sandbox belongs to alice's personal organization.
      const bob = await loginHome(stack, "bob@example.com");
      const res = await install(
        ["--name", "web", "--endpoint", "8080", "--project", "sandbox"],
        {},
        bob,
      );
      assert.equal(res.code, 77, res.stderr);
      assert.match(res.stderr, /bob@example\.com may not create tunnels in project sandbox/);
      assert.equal(await pathExists(`${bob}/.datumctl/services/web.yaml`), false);
      await stack.setAutoApprove("alice@example.com");
    });

    await t.step("--session naming no session: exit 77", async () => {
      const res = await install(["--name", "web", "--endpoint", "8080", "--session", "nobody"]);
      assert.equal(res.code, 77, res.stderr);
      assert.match(res.stderr, /no session named "nobody"/);
    });

    await t.step("--system with a service-account session", async () => {
      const sa = await serviceAccountHome(stack);
      const unitDir = await Deno.makeTempDir();
      await Deno.remove(fake.log).catch(() => {});
      const res = await install(["--name", "sys", "--endpoint", "8080", "--system"], {
        DATUMCTL_SYSTEMD_UNIT_DIR: unitDir,
      }, sa);
      const unitPath = `${unitDir}/datumctl-connect-system-sys.service`;
      if (Deno.uid() !== 0) {
        assert.equal(res.code, 77, res.stderr);
        assert.match(res.stderr, /--system needs root/);
        assert.equal(await pathExists(unitPath), false);
        return;
      }
      // These tests run as root: the root path installs a system unit.
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /a person's login/);
      const definition = parseYaml(await Deno.readTextFile(`${sa}/.datumctl/services/sys.yaml`));
      assert.equal(definition.scope, "system");
      assert.equal(definition.created_by, SA_EMAIL);
      const unit = await Deno.readTextFile(unitPath);
      assert.match(unit, /^Environment=DATUMCTL_CONNECT_DIR=\/var\/lib\/datumctl\/connect$/m);
      assert.match(unit, /^StateDirectory=datumctl$/m);
      assert.match(unit, /^WantedBy=multi-user\.target$/m);
      assert.deepEqual((await fake.calls()).filter((c) => c !== "--version"), [
        "daemon-reload",
        "enable --now datumctl-connect-system-sys.service",
      ]);
      const verify = await verifyUnit(unitPath, false);
      assert.equal(verify.code, 0, verify.output);
      assert.equal(verify.output.trim(), "");
      const gone = await runCli(["tunnel", "uninstall", "--name", "sys", "--system"], {
        home: sa,
        env: { ...env, DATUMCTL_SYSTEMD_UNIT_DIR: unitDir },
      });
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal(await pathExists(unitPath), false);
    });

    await t.step("run without an installed definition: exit 78 with the install hint", async () => {
      const res = await runCli(["tunnel", "run", "--name", "nothing"], { home, env });
      assert.equal(res.code, 78, res.stderr);
      assert.match(res.stderr, /no tunnel service named "nothing" is installed/);
      assert.match(res.stderr, /tunnel install --name nothing/);
    });

    await t.step("a definition that does not parse: exit 65 naming file and line", async () => {
      await Deno.mkdir(`${home}/.datumctl/services`, { recursive: true });
      const broken = definitionPath("broken");
      await Deno.writeTextFile(broken, "name: broken\nlabel: [unclosed\n");
      const res = await runCli(["tunnel", "run", "--name", "broken"], { home, env });
      assert.equal(res.code, 65, res.stderr);
      assert.match(res.stderr, new RegExp(`${broken} \\(line \\d+\\)`));
      const install2 = await install(["--name", "broken", "--endpoint", "8080"]);
      assert.equal(install2.code, 65, install2.stderr);
      assert.equal(await Deno.readTextFile(broken), "name: broken\nlabel: [unclosed\n");
      await Deno.remove(broken);
    });

    await t.step("run serves the installed tunnel; uninstall --purge deletes it", async () => {
      assert.ok(stack.gateway, "the local stack has no tunnel gateway (is the engine built?)");
      await Deno.remove(fake.log).catch(() => {});
      const res = await install(["--name", "web", "--endpoint", String(origin.port), "--no-start"]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok((await fake.calls()).includes("--user enable datumctl-connect-user-web.service"));
      // A stray DATUM_TOKEN in the environment does not replace the definition's session.
      const run = startTunnelProcess(home, ["tunnel", "run", "--name", "web"], {
        ...env,
        DATUM_TOKEN: "not-a-token",
      });
      const ready = await run.waitForEvent((e) => e.type === "ready");
      assert.equal(ready.label, "web");
      const answer = await publicGet(stack.gateway, ready.hostnames[0], "/svc");
      assert.deepEqual(answer, { status: 200, body: "hello from origin /svc\n" });
      run.signal("SIGTERM");
      assert.equal(await run.exited(), 0, run.stderr());
      assert.ok(run.events.some((e) => e.type === "stopped"));

      const listed = await runCli(["tunnel", "list", "--name", "web", "-o", "json"], { home, env });
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(JSON.parse(listed.stdout).map((x: { id: string }) => x.id), [ready.id]);

      const purge = await runCli(
        ["tunnel", "uninstall", "--name", "web", "--purge", "-o", "json"],
        { home, env },
      );
      assert.equal(purge.code, 0, purge.stderr);
      const result = JSON.parse(purge.stdout);
      assert.deepEqual(result.deletedTunnels, [ready.id]);
      assert.equal(result.folderRemoved, `${home}/.local/share/datumctl/connect/web`);
      assert.equal(await pathExists(result.folderRemoved), false);
      assert.equal(await pathExists(definitionPath("web")), false);
      const api = await projectApi(stack, "alice@example.com", "infra");
      await assert.rejects(
        () => api.get(`${TUNNEL_KINDS.HTTPProxy.path}/${ready.id}`),
        (err: { httpStatus?: number }) => err.httpStatus === 404,
        "the tunnel is gone from the server",
      );
    });
  } finally {
    await origin.close();
    await stack.stop();
  }
});
