/**
 * `datumctl tunnel`: creates the group and hands it to each module that adds subcommands to it,
 * in the order of `tunnel --help` — ./tunnel.ts (list, listen from ./listen.ts, update,
 * delete), ./self-test.ts, ./daemon.ts (ps, status, logs, stop), ./service.ts (install,
 * uninstall, start, run) and ./inspect.ts.
 */
import type { RegisterCommands } from "../command-context.ts";
import { EXIT_CODE_TABLE } from "./help.ts";
import { register as registerTunnel } from "./tunnel.ts";
import { register as registerSelfTest } from "./self-test.ts";
import { register as registerDaemon } from "./daemon.ts";
import { register as registerService } from "./service.ts";
import { register as registerInspect } from "./inspect.ts";

/** Registers `tunnel` and its subcommands. */
export const register: RegisterCommands = (program, ctx) => {
  const tunnel = program
    .command("tunnel")
    .description("Expose a local service at a public HTTPS URL (iroh tunnels)")
    .option("-r, --repo <dir>", "data folder shared with datum-connect (env DATUM_CONNECT_REPO)")
    .addHelpText(
      "after",
      `
Tunnels belong to a project: --project ID, DATUM_PROJECT, or the current context.
Each machine has one iroh identity per project, in <repo>/projects/<project>/listen_key;
a named tunnel (--name N) has its own, under $XDG_DATA_HOME/datumctl/connect/N/, and can run
in the foreground, in the background (listen --detach) or as a system service (install).

Examples:
  datumctl tunnel listen 8080
  datumctl tunnel list
  datumctl tunnel listen 3000 --name web --detach
  datumctl tunnel ps
  datumctl tunnel logs web -f
  datumctl tunnel stop web
  datumctl tunnel install --name web --endpoint localhost:3000
${EXIT_CODE_TABLE}`,
    );
  registerTunnel(tunnel, ctx);
  registerSelfTest(tunnel, ctx);
  registerDaemon(tunnel, ctx);
  registerService(tunnel, ctx);
  registerInspect(tunnel, ctx);
};
