/**
 * launchd property lists for tunnel services on macOS: a LaunchAgent (user scope, runs while the
 * user is logged in) or a LaunchDaemon (system scope, runs at boot as root).
 *
 * launchd cannot be run here; the tests check what is generated.
 */
import type { SelfCommand } from "../../process/self-command.ts";
import { homeDir } from "../../store/paths.ts";
import type { ServiceDefinition, ServiceScope } from "./definition.ts";

/** `net.datum.datumctl-connect-<scope>-<name>`: the job label, also the plist's file name. */
export function launchdLabel(scope: ServiceScope, name: string): string {
  return `net.datum.datumctl-connect-${scope}-${name}`;
}

/** `~/Library/LaunchAgents/<label>.plist` (user) or `/Library/LaunchDaemons/<label>.plist`. */
export function launchdPlistPath(
  scope: ServiceScope,
  name: string,
  env: (name: string) => string | undefined,
): string {
  const dir = scope === "system"
    ? "/Library/LaunchDaemons"
    : `${homeDir(env)}/Library/LaunchAgents`;
  return `${dir}/${launchdLabel(scope, name)}.plist`;
}

function xml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** What a plist is rendered from. */
export interface LaunchdInputs {
  definition: ServiceDefinition;
  command: SelfCommand;
  environment: Record<string, string>;
}

/**
 * The plist. `KeepAlive.SuccessfulExit=false` restarts after a non-zero exit only, so a clean
 * stop stays stopped; `ThrottleInterval` spaces restarts (launchd has no growing delay and no
 * way to skip restarts for permanent exit codes: those failures repeat every 30 s, logged).
 * launchd discards output unless told where to put it, so the JSON event lines go to a log file.
 */
export function renderLaunchdPlist(inputs: LaunchdInputs): string {
  const { definition: d, command } = inputs;
  const label = launchdLabel(d.scope, d.name);
  const logDir = d.scope === "system"
    ? "/Library/Logs/datumctl"
    : `${inputs.environment.HOME}/Library/Logs/datumctl`;
  const argv = [command.command, ...command.args, "tunnel", "run", "--name", d.name];
  const env = Object.entries(inputs.environment)
    .map(([k, v]) => `      <key>${xml(k)}</key>\n      <string>${xml(v)}</string>`);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<!-- Written by 'datumctl tunnel install'; remove with 'datumctl tunnel uninstall --name ${
      xml(d.name)
    }'. -->`,
    `<plist version="1.0">`,
    `  <dict>`,
    `    <key>Label</key>`,
    `    <string>${xml(label)}</string>`,
    `    <key>ProgramArguments</key>`,
    `    <array>`,
    ...argv.map((a) => `      <string>${xml(a)}</string>`),
    `    </array>`,
    `    <key>EnvironmentVariables</key>`,
    `    <dict>`,
    ...env,
    `    </dict>`,
    `    <key>RunAtLoad</key>`,
    `    <true/>`,
    `    <key>KeepAlive</key>`,
    `    <dict>`,
    `      <key>SuccessfulExit</key>`,
    `      <false/>`,
    `    </dict>`,
    `    <key>ThrottleInterval</key>`,
    `    <integer>30</integer>`,
    `    <key>ExitTimeOut</key>`,
    `    <integer>30</integer>`,
    `    <key>ProcessType</key>`,
    `    <string>Background</string>`,
    `    <key>StandardOutPath</key>`,
    `    <string>${xml(`${logDir}/${d.name}.log`)}</string>`,
    `    <key>StandardErrorPath</key>`,
    `    <string>${xml(`${logDir}/${d.name}.log`)}</string>`,
    `  </dict>`,
    `</plist>`,
    ``,
  ].join("\n");
}
