/**
 * systemd units for tunnel services: where they go, what they are called and what they say.
 *
 * Reading `systemctl show` and `systemctl --version` output is here too: the unit's growing restart
 * delay needs systemd 254 or newer. Running `systemctl` is `manager.ts`'s business.
 */
import type { SelfCommand } from "../../process/self-command.ts";
import { homeDir } from "../../store/paths.ts";
import type { ServiceDefinition, ServiceScope } from "./definition.ts";

/** `RestartSteps=` and `RestartMaxDelaySec=` (a growing restart delay) arrived in systemd 254. */
export const SYSTEMD_BACKOFF_MIN_VERSION = 254;

/** Exit codes after which a restart cannot help (sysexits: usage, data, permission, config). */
const PERMANENT_EXIT_CODES = "64 65 77 78";

/** `datumctl-connect-<scope>-<name>.service`. */
export function systemdUnitName(scope: ServiceScope, name: string): string {
  return `datumctl-connect-${scope}-${name}.service`;
}

/**
 * The folder of units: `$XDG_CONFIG_HOME/systemd/user` (user), `/etc/systemd/system` (system).
 * `DATUMCTL_SYSTEMD_UNIT_DIR` replaces either, for image builds that write into another root.
 */
export function systemdUnitDir(
  scope: ServiceScope,
  env: (name: string) => string | undefined,
): string {
  const explicit = env("DATUMCTL_SYSTEMD_UNIT_DIR")?.trim();
  if (explicit) return explicit.replace(/\/+$/, "");
  if (scope === "system") return "/etc/systemd/system";
  const config = env("XDG_CONFIG_HOME") || `${homeDir(env)}/.config`;
  return `${config}/systemd/user`;
}

function noNewlines(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`${what} cannot contain a line break`);
  return value;
}

/**
 * One word of a unit file line, as systemd reads it back: `%` is doubled (specifiers), and a
 * word with anything beyond a safe set is double-quoted with `\` and `"` escaped. With
 * `dollar: true` (ExecStart=) `$` is doubled too, since systemd expands `$VAR` there.
 */
export function systemdQuote(word: string, options: { dollar?: boolean } = {}): string {
  noNewlines(word, "a unit word");
  let escaped = word.replaceAll("%", "%%");
  if (options.dollar) escaped = escaped.replaceAll("$", "$$$$");
  if (escaped !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** The major version from `systemctl --version` ("systemd 252 (252.38-1~deb12u1)" → 252). */
export function parseSystemdVersion(output: string): number | undefined {
  const m = output.match(/^systemd (\d+)/m);
  return m ? Number(m[1]) : undefined;
}

/** `KEY=value` lines of `systemctl show -p …` as a record. */
export function parseSystemdShow(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** What a unit is rendered from. */
export interface SystemdUnitInputs {
  definition: ServiceDefinition;
  /** How to start this datumctl (`selfCommand()`). */
  command: SelfCommand;
  /** Environment= lines (see `serviceEnvironment`). */
  environment: Record<string, string>;
  /** The installed systemd's major version; undefined means "assume a current one". */
  systemdVersion?: number;
  /** Where the definition lives, for the header comment. */
  definitionPath?: string;
}

/** The text of the `.service` unit that runs `tunnel run --name N`. */
export function renderSystemdUnit(inputs: SystemdUnitInputs): string {
  const { definition: d, command } = inputs;
  const system = d.scope === "system";
  const argv = [command.command, ...command.args, "tunnel", "run", "--name", d.name];
  // systemd expands $VAR in the arguments but never in the program path (the first word).
  const exec = argv.map((w, i) => systemdQuote(w, { dollar: i > 0 })).join(" ");
  const describe = noNewlines(
    `datumctl tunnel ${d.name}: ${d.endpoint} in project ${d.project}`,
    "the description",
  )
    .replaceAll("%", "%%");
  const growing = inputs.systemdVersion === undefined ||
    inputs.systemdVersion >= SYSTEMD_BACKOFF_MIN_VERSION;

  const lines = [
    `# Written by 'datumctl tunnel install'${
      inputs.definitionPath ? ` from ${inputs.definitionPath}` : ""
    }.`,
    `# Remove it with 'datumctl tunnel uninstall --name ${d.name}${system ? " --system" : ""}'.`,
    "[Unit]",
    `Description=${describe}`,
    // In a user manager network-online.target does not exist and these two lines do nothing;
    // the restart policy below covers a network that comes up late.
    "After=network-online.target",
    "Wants=network-online.target",
    // Never give up restarting: a tunnel must come back after a long outage.
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    ...Object.entries(inputs.environment).map(([k, v]) =>
      `Environment=${systemdQuote(`${k}=${v}`)}`
    ),
    ...(system ? ["StateDirectory=datumctl"] : []),
    // Exit 0 (a clean stop) is not restarted; neither are the permanent failures.
    "Restart=on-failure",
    "RestartSec=5",
    ...(growing ? ["RestartSteps=2", "RestartMaxDelaySec=60"] : [
      `# Growing restart delays (RestartSteps=, RestartMaxDelaySec=) need systemd ${SYSTEMD_BACKOFF_MIN_VERSION}; this one is ${inputs.systemdVersion}: a fixed 5 s.`,
    ]),
    `RestartPreventExitStatus=${PERMANENT_EXIT_CODES}`,
    // SIGTERM makes the tunnel disable itself on the control plane before it exits.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30",
    "",
    "[Install]",
    `WantedBy=${system ? "multi-user.target" : "default.target"}`,
    "",
  ];
  return lines.join("\n");
}
