/**
 * What `datumctl auth get-token` prints: the access token, or a kubectl ExecCredential. Kept
 * apart from the `auth` group (commands/auth.ts) and free of commander, because kubectl runs
 * it before every call and main.ts runs it without loading the command tree.
 */
import type { CommandContext } from "../command-context.ts";
import { parseOutputFormat } from "../../lib/ui/output.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";

/** The ExecCredential apiVersion kubectl asks for. */
export const EXEC_CREDENTIAL = "client.authentication.k8s.io/v1";

/** The flags of `auth get-token`. */
export interface GetTokenOptions {
  output?: string;
  session?: string;
}

/** Prints a (refreshed when about to expire) access token of the active or named session. */
export async function printToken(ctx: CommandContext, flags: GetTokenOptions): Promise<void> {
  const io = ctx.io;
  const format = parseOutputFormat(flags.output, ["token", EXEC_CREDENTIAL] as const, "token");
  const [{ resolveAuthContext }, { formatRfc3339 }] = await Promise.all([
    import("../../lib/auth/resolve.ts"),
    import("../../lib/auth/stored-token.ts"),
  ]);
  const auth = await resolveAuthContext({
    session: flags.session,
    env: (n) => io.env(n),
    warn: (l) => io.err(terminalLine(l)),
  });
  const token = await auth.tokens.accessToken();
  if (format === "token") {
    io.out(token);
    return;
  }
  const expiry = (await auth.tokens.expiry()) ?? new Date(ctx.now().getTime() + 5 * 60_000);
  io.out(JSON.stringify(
    {
      kind: "ExecCredential",
      apiVersion: EXEC_CREDENTIAL,
      spec: { interactive: false },
      status: { expirationTimestamp: formatRfc3339(expiry), token },
    },
    null,
    2,
  ));
}
