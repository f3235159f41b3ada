import assert from "node:assert/strict";
import type { ServiceDefinition } from "./definition.ts";
import {
  parseSystemdShow,
  parseSystemdVersion,
  renderSystemdUnit,
  systemdQuote,
  systemdUnitDir,
  systemdUnitName,
} from "./systemd.ts";

const DEFINITION: ServiceDefinition = {
  name: "web",
  label: "web",
  endpoint: "http://localhost:3000",
  project: "infra",
  session: "ci@example.com@api.datum.net",
  api_host: "api.datum.net",
  scope: "user",
  created_at: "2026-07-01T00:00:00.000Z",
  created_by: "ci@example.com",
};

function env(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("unit names and folders follow the scope", () => {
  assert.equal(systemdUnitName("user", "web"), "datumctl-connect-user-web.service");
  assert.equal(systemdUnitName("system", "web"), "datumctl-connect-system-web.service");
  assert.equal(systemdUnitDir("user", env({ HOME: "/h" })), "/h/.config/systemd/user");
  assert.equal(
    systemdUnitDir("user", env({ HOME: "/h", XDG_CONFIG_HOME: "/c" })),
    "/c/systemd/user",
  );
  assert.equal(systemdUnitDir("system", env({ HOME: "/h" })), "/etc/systemd/system");
  assert.equal(
    systemdUnitDir("system", env({ HOME: "/h", DATUMCTL_SYSTEMD_UNIT_DIR: "/img/etc/" })),
    "/img/etc",
  );
});

Deno.test("words are quoted the way systemd splits them back", () => {
  assert.equal(systemdQuote("/usr/bin/datumctl"), "/usr/bin/datumctl");
  assert.equal(systemdQuote("/opt/my tools/datumctl"), '"/opt/my tools/datumctl"');
  assert.equal(systemdQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(systemdQuote("50%"), "50%%");
  assert.equal(systemdQuote("$HOME", { dollar: true }), '"$$HOME"');
  assert.equal(systemdQuote("$HOME"), '"$HOME"');
  assert.equal(systemdQuote(""), '""');
  assert.throws(() => systemdQuote("a\nb"), /line break/);
});

Deno.test("systemctl output parsers", () => {
  assert.equal(parseSystemdVersion("systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT"), 252);
  assert.equal(parseSystemdVersion("nonsense"), undefined);
  assert.deepEqual(parseSystemdShow("ActiveState=active\nSubState=running\nMainPID=42\n"), {
    ActiveState: "active",
    SubState: "running",
    MainPID: "42",
  });
});

Deno.test("user unit: restart policy, environment, no system-only keys", () => {
  const unit = renderSystemdUnit({
    definition: DEFINITION,
    command: { command: "/usr/bin/deno", args: ["run", "-A", "--quiet", "/src/main.ts"] },
    environment: { HOME: "/home/me", XDG_DATA_HOME: "/home/me/data dir" },
    systemdVersion: 255,
  });
  assert.match(
    unit,
    /^ExecStart=\/usr\/bin\/deno run -A --quiet \/src\/main\.ts tunnel run --name web$/m,
  );
  assert.match(unit, /^Environment=HOME=\/home\/me$/m);
  assert.match(unit, /^Environment="XDG_DATA_HOME=\/home\/me\/data dir"$/m);
  for (
    const line of [
      "After=network-online.target",
      "Wants=network-online.target",
      "StartLimitIntervalSec=0",
      "Restart=on-failure",
      "RestartSec=5",
      "RestartSteps=2",
      "RestartMaxDelaySec=60",
      "RestartPreventExitStatus=64 65 77 78",
      "KillSignal=SIGTERM",
      "TimeoutStopSec=30",
      "WantedBy=default.target",
    ]
  ) assert.ok(unit.split("\n").includes(line), `missing ${line}`);
  assert.doesNotMatch(unit, /StateDirectory|multi-user/);
});

Deno.test("system unit: state folder and boot target", () => {
  const unit = renderSystemdUnit({
    definition: { ...DEFINITION, scope: "system" },
    command: { command: "/usr/local/bin/datumctl", args: [] },
    environment: { HOME: "/root", DATUMCTL_CONNECT_DIR: "/var/lib/datumctl/connect" },
  });
  assert.match(unit, /^StateDirectory=datumctl$/m);
  assert.match(unit, /^Environment=DATUMCTL_CONNECT_DIR=\/var\/lib\/datumctl\/connect$/m);
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
  assert.match(unit, /uninstall --name web --system/);
});

Deno.test("before systemd 254 the unit keeps a fixed delay and says why", () => {
  const unit = renderSystemdUnit({
    definition: DEFINITION,
    command: { command: "/usr/bin/datumctl", args: [] },
    environment: { HOME: "/h" },
    systemdVersion: 252,
  });
  assert.doesNotMatch(unit, /^RestartSteps=/m);
  assert.doesNotMatch(unit, /^RestartMaxDelaySec=/m);
  assert.match(unit, /^# Growing restart delays .* need systemd 254; this one is 252/m);
  assert.match(unit, /^RestartSec=5$/m);
});

Deno.test("systemd-analyze verify reads a quoted ExecStart with spaces, % and $", async () => {
  const dir = await Deno.makeTempDir({ prefix: "unit dir " });
  const bin = `${dir}/50% $tools`;
  await Deno.mkdir(bin);
  await Deno.copyFile("/bin/true", `${bin}/datumctl`);
  await Deno.chmod(`${bin}/datumctl`, 0o755);
  const version = await new Deno.Command("systemctl", { args: ["--version"], stdout: "piped" })
    .output();
  const unitPath = `${dir}/datumctl-connect-system-web.service`;
  await Deno.writeTextFile(
    unitPath,
    renderSystemdUnit({
      definition: { ...DEFINITION, scope: "system", label: "50% off" },
      command: { command: `${bin}/datumctl`, args: [] },
      environment: { HOME: "/root", ODD: 'a "quoted" 100% $value' },
      systemdVersion: parseSystemdVersion(new TextDecoder().decode(version.stdout)),
    }),
  );
  const out = await new Deno.Command("systemd-analyze", {
    args: ["verify", unitPath],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, said);
  assert.equal(said.trim(), "");
});
