/**
 * `datumctl tunnel inspect --name N`: the request inspector of a running named tunnel (started
 * with `--inspect`, in the foreground, detached or as a service). It reads the address and token
 * the tunnel's process left in its folder (lib/tunnel/inspector/record.ts), checks that process
 * is still the one serving, and prints the URL (or opens it with `--open`).
 */
import { Option } from "commander";
import type { CommandContext, RegisterInGroup } from "../command-context.ts";
import { EXIT_CODES } from "./help.ts";
import { parseStructuredOutput, renderStructured } from "../../lib/ui/output.ts";
import { CliError, ExitCode, UsageError } from "../../lib/core/errors.ts";

async function inspectNamed(ctx: CommandContext, flags: InspectFlags): Promise<void> {
  const io = ctx.io;
  const name = flags.name;
  if (name === undefined) {
    throw new UsageError(
      "tunnel inspect needs --name",
      "e.g. 'datumctl tunnel inspect --name web'; a foreground 'tunnel listen --inspect' prints its URL itself.",
    );
  }
  const format = parseStructuredOutput(flags.output);
  const [rec, { readInspectorRecord }] = await Promise.all([
    import("../../lib/tunnel/daemon/record.ts"),
    import("../../lib/tunnel/inspector/record.ts"),
  ]);
  const view = await rec.inspectNamedTunnel(name, io.env);
  if (view.process !== "running" || !view.pid) {
    throw new CliError("TUNNEL_NOT_RUNNING", `named tunnel ${name} is not running`, {
      hint:
        `Start it with the inspector: 'datumctl tunnel listen <endpoint> --name ${name} --detach --inspect'.`,
      exitCode: ExitCode.rejected,
    });
  }
  const record = await readInspectorRecord(view.files.dir);
  if (!record || record.pid !== view.pid.pid) {
    throw new CliError(
      "INSPECTOR_OFF",
      `named tunnel ${name} is running without the request inspector`,
      {
        hint:
          `Restart it with --inspect ('datumctl tunnel stop --name ${name}', then 'datumctl tunnel listen <endpoint> --name ${name} --detach --inspect'); a service takes 'inspect' in its definition ('tunnel install --inspect').`,
        exitCode: ExitCode.rejected,
      },
    );
  }
  if (format) {
    io.out(
      renderStructured({ name, url: record.url, address: record.address, pid: record.pid }, format),
    );
  } else {
    io.out(`${record.url}\n`);
  }
  if (flags.open) {
    const { openInBrowser } = await import("../../lib/auth/browser-flow.ts");
    openInBrowser(
      record.url,
      io.env,
      (reason) => io.err(`warning: could not open a browser (${reason}); open the URL above.\n`),
    );
  }
}

interface InspectFlags {
  name?: string;
  open?: boolean;
  output?: string;
}

/** Adds `tunnel inspect` to the `tunnel` group. */
export const register: RegisterInGroup = (tunnel, ctx) => {
  tunnel
    .command("inspect")
    .description("Print (or open) the request inspector URL of a running named tunnel")
    .option("--name <name>", "the named tunnel (started with --inspect)")
    .option("--open", "open it in the browser")
    .addOption(new Option("-o, --output <format>", "json or yaml"))
    .addHelpText(
      "after",
      `
The URL carries the inspector session's token (the tunnel's process keeps it in
<connect dir>/<name>/inspector.json, readable by you only, and removes it when it stops).
The inspector listens on loopback only: open it on the machine that serves the tunnel.

Examples:
  datumctl tunnel listen 3000 --name web --detach --inspect
  datumctl tunnel inspect --name web --open
${EXIT_CODES}`,
    )
    .action((flags: InspectFlags) => inspectNamed(ctx, flags));
};
