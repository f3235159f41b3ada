/**
 * One entry point that renders a service's unit for its manager (systemd unit, launchd plist or
 * Task Scheduler XML) from the definition, so install, `--dry-run` and the tests all see the same
 * text.
 */
import type { SelfCommand } from "../../process/self-command.ts";
import { homeDir } from "../../store/paths.ts";
import { serviceEnvironment } from "./environment.ts";
import type { InstalledService } from "./manager.ts";
import { renderLaunchdPlist } from "./launchd.ts";
import { renderSystemdUnit } from "./systemd.ts";
import { renderWindowsTask, utf16le } from "./windows.ts";

/** A rendered unit: the text people read, and the bytes written to `svc.unitPath`. */
export interface RenderedUnit {
  text: string;
  bytes: Uint8Array;
}

/** Renders `svc`'s unit; `systemdVersion` decides whether growing restart delays are used. */
export function renderServiceUnit(
  svc: InstalledService,
  options: {
    command: SelfCommand;
    env: (name: string) => string | undefined;
    systemdVersion?: number;
  },
): RenderedUnit {
  const { env, command } = options;
  const definition = svc.definition;
  const environment = serviceEnvironment(definition.scope, homeDir(env), env);
  if (svc.manager === "systemd") {
    const text = renderSystemdUnit({
      definition,
      command,
      environment,
      systemdVersion: options.systemdVersion,
      definitionPath: svc.definitionPath,
    });
    return { text, bytes: new TextEncoder().encode(text) };
  }
  if (svc.manager === "launchd") {
    const text = renderLaunchdPlist({ definition, command, environment });
    return { text, bytes: new TextEncoder().encode(text) };
  }
  const localAppData = env("LOCALAPPDATA") ?? `${homeDir(env)}\\AppData\\Local`;
  const text = renderWindowsTask({
    definition,
    command,
    environment,
    logDir: definition.scope === "system"
      ? `${env("ProgramData") ?? "C:\\ProgramData"}\\datumctl\\logs`
      : `${localAppData}\\datumctl\\logs`,
    userId: definition.scope === "user" && env("USERNAME")
      ? `${env("USERDOMAIN") ? `${env("USERDOMAIN")}\\` : ""}${env("USERNAME")}`
      : undefined,
  });
  // Task Scheduler reads the XML file as UTF-16 (its declaration says so).
  return { text, bytes: utf16le(text, true) };
}
