/**
 * Tunnel services on Windows, as Task Scheduler tasks.
 *
 * Why not a Windows service: a service program must answer the Service Control Manager
 * (StartServiceCtrlDispatcher, status reports within 30 s), which a Deno console program cannot
 * do; registered with `sc create` anyway, it is killed as "not responding" at start. Wrappers
 * that can (WinSW, NSSM) are extra programs we would have to ship. Task Scheduler runs a console
 * program as is, at boot as SYSTEM (system scope) or at the user's logon (user scope), with no
 * time limit. Its own "restart on failure" only covers a task that fails to launch, not a
 * program that exits non-zero, so the task runs a small PowerShell loop (present on every
 * Windows) that restarts `tunnel run` after a failure with a growing delay (5 s doubling to
 * 60 s), and stops after exit 0 or a permanent error (64, 65, 77, 78), as the systemd unit does.
 *
 * The PowerShell loop is passed as `-EncodedCommand` and the task file is written in UTF-16LE.
 * Nothing here can run on Linux; the tests check what is generated.
 */
import type { SelfCommand } from "../../process/self-command.ts";
import type { ServiceDefinition, ServiceScope } from "./definition.ts";

/** `\datumctl\datumctl-connect-<scope>-<name>`: the task's path in Task Scheduler. */
export function windowsTaskName(scope: ServiceScope, name: string): string {
  return `\\datumctl\\datumctl-connect-${scope}-${name}`;
}

function xml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function psLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** One Windows command line from argv, quoted the way CommandLineToArgvW splits it back. */
export function windowsCommandLine(argv: string[]): string {
  return argv.map((arg) => {
    if (arg !== "" && !/[\s"]/.test(arg)) return arg;
    let out = '"';
    let slashes = 0;
    for (const ch of arg) {
      if (ch === "\\") {
        slashes++;
        continue;
      }
      out += ch === '"' ? "\\".repeat(slashes * 2 + 1) + '"' : "\\".repeat(slashes) + ch;
      slashes = 0;
    }
    return out + "\\".repeat(slashes * 2) + '"';
  }).join(" ");
}

/** UTF-16LE bytes of `text` (PowerShell's `-EncodedCommand` and the task XML file use it). */
export function utf16le(text: string, bom = false): Uint8Array {
  const out = new Uint8Array((text.length + (bom ? 1 : 0)) * 2);
  let o = 0;
  if (bom) {
    out[o++] = 0xff;
    out[o++] = 0xfe;
  }
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[o++] = unit & 0xff;
    out[o++] = unit >> 8;
  }
  return out;
}

/** What a task is rendered from. */
export interface WindowsTaskInputs {
  definition: ServiceDefinition;
  command: SelfCommand;
  environment: Record<string, string>;
  /** The log folder (e.g. `%LOCALAPPDATA%\datumctl\logs`), resolved at install time. */
  logDir: string;
  /** `DOMAIN\user` for the logon trigger of a user-scoped task. */
  userId?: string;
}

/** The PowerShell supervisor loop the task runs (see the module comment). */
export function windowsTaskScript(inputs: WindowsTaskInputs): string {
  const { definition: d, command } = inputs;
  const args = windowsCommandLine([...command.args, "tunnel", "run", "--name", d.name]);
  const log = `${inputs.logDir}\\${d.name}.log`;
  return [
    `# datumctl tunnel service ${d.name}`,
    ...Object.entries(inputs.environment).map(([k, v]) =>
      `[Environment]::SetEnvironmentVariable(${psLiteral(k)}, ${psLiteral(v)}, 'Process')`
    ),
    `New-Item -ItemType Directory -Force -Path ${psLiteral(inputs.logDir)} | Out-Null`,
    `$delay = 5`,
    `while ($true) {`,
    `  $started = Get-Date`,
    `  $p = Start-Process -FilePath ${psLiteral(command.command)} -ArgumentList ${
      psLiteral(args)
    } -NoNewWindow -Wait -PassThru -RedirectStandardOutput ${psLiteral(log)} ` +
    `-RedirectStandardError ${psLiteral(`${log}.err`)}`,
    `  if (@(0, 64, 65, 77, 78) -contains $p.ExitCode) { exit $p.ExitCode }`,
    `  if (((Get-Date) - $started).TotalSeconds -gt 120) { $delay = 5 }`,
    `  Start-Sleep -Seconds $delay`,
    `  $delay = [Math]::Min($delay * 2, 60)`,
    `}`,
    ``,
  ].join("\r\n");
}

/**
 * The task definition XML (register with `schtasks /Create /XML <file> /TN <name>`; the file
 * must be written as UTF-16LE with a byte-order mark, see {@link utf16le}).
 */
export function renderWindowsTask(inputs: WindowsTaskInputs): string {
  const d = inputs.definition;
  const system = d.scope === "system";
  const script = windowsTaskScript(inputs);
  let binary = "";
  for (const byte of utf16le(script)) binary += String.fromCharCode(byte);
  const encoded = btoa(binary);
  const trigger = system
    ? [`    <BootTrigger>`, `      <Enabled>true</Enabled>`, `    </BootTrigger>`]
    : [
      `    <LogonTrigger>`,
      `      <Enabled>true</Enabled>`,
      ...(inputs.userId ? [`      <UserId>${xml(inputs.userId)}</UserId>`] : []),
      `    </LogonTrigger>`,
    ];
  const principal = system
    ? [`      <UserId>S-1-5-18</UserId>`, `      <RunLevel>HighestAvailable</RunLevel>`]
    : [
      ...(inputs.userId ? [`      <UserId>${xml(inputs.userId)}</UserId>`] : []),
      `      <LogonType>InteractiveToken</LogonType>`,
      `      <RunLevel>LeastPrivilege</RunLevel>`,
    ];
  return [
    `<?xml version="1.0" encoding="UTF-16"?>`,
    // An XML comment cannot hold "--": those become "- -" (the loop's text is for reading only).
    `<!-- ${
      [
        `Written by 'datumctl tunnel install'; remove with 'datumctl tunnel uninstall --name ${d.name}'.`,
        "The action runs this PowerShell loop (its UTF-16LE text in base64):",
        ...script.split("\r\n").filter(Boolean).map((l) => `  ${l}`),
      ].map(xml).join("\r\n     ").replace(/-(?=-)/g, "- ")
    }\r\n-->`,
    `<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">`,
    `  <RegistrationInfo>`,
    `    <Description>${
      xml(`datumctl tunnel ${d.name}: ${d.endpoint} in project ${d.project}`)
    }</Description>`,
    `    <URI>${xml(windowsTaskName(d.scope, d.name))}</URI>`,
    `  </RegistrationInfo>`,
    `  <Triggers>`,
    ...trigger,
    `  </Triggers>`,
    `  <Principals>`,
    `    <Principal id="Author">`,
    ...principal,
    `    </Principal>`,
    `  </Principals>`,
    `  <Settings>`,
    `    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>`,
    `    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>`,
    `    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>`,
    `    <AllowHardTerminate>true</AllowHardTerminate>`,
    `    <StartWhenAvailable>true</StartWhenAvailable>`,
    `    <AllowStartOnDemand>true</AllowStartOnDemand>`,
    `    <Enabled>true</Enabled>`,
    `    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>`,
    `    <RestartOnFailure>`,
    `      <Interval>PT1M</Interval>`,
    `      <Count>999</Count>`,
    `    </RestartOnFailure>`,
    `  </Settings>`,
    `  <Actions Context="Author">`,
    `    <Exec>`,
    `      <Command>powershell.exe</Command>`,
    `      <Arguments>-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -EncodedCommand ${encoded}</Arguments>`,
    `    </Exec>`,
    `  </Actions>`,
    `</Task>`,
    ``,
  ].join("\r\n");
}
