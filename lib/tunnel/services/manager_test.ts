import assert from "node:assert/strict";
import { CliError } from "../../core/errors.ts";
import { type ServiceDefinition, writeServiceDefinition } from "./definition.ts";
import {
  describeService,
  findInstalledService,
  managerCommands,
  requireManager,
  serviceState,
  startService,
  stopService,
} from "./manager.ts";

const DEFINITION: ServiceDefinition = {
  name: "web",
  label: "web",
  endpoint: "http://localhost:3000",
  project: "infra",
  session: "s",
  api_host: "api.datum.net",
  scope: "user",
  created_at: "",
  created_by: "",
};

/**
 * A `systemctl` first on the PATH of the env handed to the manager (the process environment is
 * left alone: test files run in parallel in one process). It logs its argv and prints what `set`
 * last gave it, or fails with that error.
 */
async function withFakeSystemctl(
  fn: (
    env: (name: string) => string | undefined,
    calls: () => Promise<string[]>,
    set: (out: string, err?: string) => Promise<void>,
  ) => Promise<void>,
) {
  const bin = await Deno.makeTempDir();
  const log = `${bin}/calls`;
  await Deno.writeTextFile(
    `${bin}/systemctl`,
    `#!/bin/sh\necho "$*" >> "${log}"\ncat "${bin}/out"\n` +
      `if [ -s "${bin}/err" ]; then cat "${bin}/err" >&2; exit 1; fi\n`,
  );
  await Deno.chmod(`${bin}/systemctl`, 0o755);
  const set = async (out: string, err = "") => {
    await Deno.writeTextFile(`${bin}/out`, out);
    await Deno.writeTextFile(`${bin}/err`, err);
  };
  await set("");
  const path = `${bin}:${Deno.env.get("PATH") ?? ""}`;
  const env = (name: string) => (name === "PATH" ? path : Deno.env.get(name));
  await fn(
    env,
    async () => (await Deno.readTextFile(log).catch(() => "")).split("\n").filter(Boolean),
    set,
  );
}

Deno.test("findInstalledService: nothing installed, then the definition's unit", async () => {
  const home = await Deno.makeTempDir();
  const env = (name: string) => (name === "HOME" ? home : undefined);
  assert.equal(await findInstalledService("web", env), undefined);
  await writeServiceDefinition(DEFINITION, env);
  const svc = await findInstalledService("web", env);
  assert.ok(svc);
  assert.equal(svc.unitName, "datumctl-connect-user-web.service");
  assert.equal(svc.unitPath, `${home}/.config/systemd/user/datumctl-connect-user-web.service`);
  assert.equal(svc.definitionPath, `${home}/.datumctl/services/web.yaml`);
});

Deno.test("serviceState, startService and stopService talk to systemctl", async () => {
  const svc = describeService(DEFINITION, (n) => (n === "HOME" ? "/h" : undefined), "systemd");
  await withFakeSystemctl(async (env, calls, set) => {
    await set("ActiveState=active\nSubState=running\nMainPID=4242\nResult=success\n");
    assert.deepEqual(await serviceState(svc, env), {
      active: true,
      state: "active/running",
      mainPid: 4242,
      detail: "running (pid 4242)",
    });
    await set(
      "ActiveState=failed\nSubState=failed\nMainPID=0\nResult=exit-code\nExecMainStatus=77\n",
    );
    const failed = await serviceState(svc, env);
    assert.equal(failed.active, false);
    assert.equal(failed.mainPid, undefined);
    assert.match(failed.detail, /last exit code 77 \(permanent: not restarted\)/);
    await set("");
    await startService(svc, env);
    await stopService(svc, env);
    assert.deepEqual((await calls()).slice(-2), [
      "--user start datumctl-connect-user-web.service",
      "--user stop datumctl-connect-user-web.service",
    ]);
    assert.equal(
      (await calls())[0],
      "--user show -p ActiveState,SubState,MainPID,Result,ExecMainStatus datumctl-connect-user-web.service",
    );
  });
});

Deno.test("no running systemd is a configuration error (78); other failures exit 1", async () => {
  const svc = describeService(DEFINITION, (n) => (n === "HOME" ? "/h" : undefined), "systemd");
  await withFakeSystemctl(async (env, _calls, set) => {
    await set("", "System has not been booted with systemd as init system (PID 1). Can't operate.");
    await assert.rejects(() => startService(svc, env), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 78);
      assert.match(err.hint ?? "", /loginctl enable-linger/);
      return true;
    });
    await set("", "Unit datumctl-connect-user-web.service not found.");
    await assert.rejects(() => stopService(svc, env), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /not found/);
      return true;
    });
  });
});

Deno.test("requireManager: exit 78 without the manager on PATH", async () => {
  const svc = describeService(DEFINITION, (n) => (n === "HOME" ? "/h" : undefined), "systemd");
  const empty = await Deno.makeTempDir();
  await assert.rejects(
    () => requireManager(svc, (n) => (n === "PATH" ? empty : undefined)),
    (err: unknown) => err instanceof CliError && err.exitCode === 78,
  );
});

Deno.test("launchd and Task Scheduler commands", () => {
  const env = (n: string) => (n === "HOME" ? "/Users/me" : undefined);
  const daemon = describeService({ ...DEFINITION, scope: "system" }, env, "launchd");
  const mac = managerCommands(daemon);
  assert.deepEqual(mac.install(true), [[
    "launchctl",
    "bootstrap",
    "system",
    "/Library/LaunchDaemons/net.datum.datumctl-connect-system-web.plist",
  ]]);
  assert.deepEqual(mac.stop, [
    "launchctl",
    "kill",
    "SIGTERM",
    "system/net.datum.datumctl-connect-system-web",
  ]);
  const task = describeService(DEFINITION, env, "windows");
  const win = managerCommands(task);
  assert.equal(task.unitPath, "/Users/me/.datumctl/services/web.task.xml");
  assert.deepEqual(win.install(false), [[
    "schtasks",
    "/Create",
    "/TN",
    "\\datumctl\\datumctl-connect-user-web",
    "/XML",
    task.unitPath,
    "/F",
  ]]);
  assert.deepEqual(win.start, ["schtasks", "/Run", "/TN", "\\datumctl\\datumctl-connect-user-web"]);
});
