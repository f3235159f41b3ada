/**
 * How another program (kubectl's exec plugin, a systemd unit, a detached tunnel daemon) starts this
 * very datumctl, compiled or from source.
 */

/** The program and leading arguments that run this datumctl. */
export interface SelfCommand {
  command: string;
  args: string[];
}

/**
 * The compiled binary's absolute path, or (when running from source) deno's absolute path with
 * `run -A --quiet <abs main.ts>`.
 */
export function selfCommand(
  execPath: string = Deno.execPath(),
  mainModule: string = Deno.mainModule,
): SelfCommand {
  const base = execPath.split(/[\\/]/).pop() ?? "";
  if (/^deno(\.exe)?$/i.test(base) && mainModule.startsWith("file:")) {
    return { command: execPath, args: ["run", "-A", "--quiet", new URL(mainModule).pathname] };
  }
  return { command: execPath, args: [] };
}
