/**
 * `datumctl logout [EMAIL] [--all]`: revoke and forget stored logins — their sessions, contexts
 * and secrets (service-account key files included).
 */
import type { RegisterCommands } from "./context.ts";
import { UsageError } from "../lib/core/errors.ts";
import { successLine } from "../lib/ui/output.ts";
import { terminalLine } from "../lib/ui/terminal-text.ts";
import type { IO } from "../lib/core/io.ts";

/** Drops the kubectl users (and their contexts) that ran `auth get-token` for removed sessions. */
async function forgetKubeconfigUsers(io: IO, sessions: string[] | "all"): Promise<void> {
  const [{ kubeconfigPath }, { pruneKubeconfigSessions }] = await Promise.all([
    import("../lib/kubeconfig.ts"),
    import("../lib/kubeconfig-prune.ts"),
  ]);
  const env = (n: string) => io.env(n);
  const path = kubeconfigPath(undefined, env);
  // The logins are gone already: a kubeconfig we cannot change is a warning, not a failure.
  const pruned = await pruneKubeconfigSessions(path, sessions, env).catch((err) => ({
    path,
    users: [],
    contexts: [],
    unreadable: err instanceof Error ? err.message : String(err),
  }));
  if (pruned.unreadable) {
    io.err(terminalLine(
      `warning: ${pruned.path} was left as it is (${pruned.unreadable}); its datumctl users may point at removed logins`,
    ));
  } else if (pruned.users.length > 0) {
    const contexts = pruned.contexts.length
      ? ` and ${pruned.contexts.length === 1 ? "context" : "contexts"} ${
        pruned.contexts.join(", ")
      }`
      : "";
    io.err(terminalLine(
      `Removed kubectl ${pruned.users.length === 1 ? "user" : "users"} ${
        pruned.users.join(", ")
      }${contexts} from ${pruned.path}.`,
    ));
  }
}

/** Registers `logout`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("logout")
    .argument("[email]", "log out every login of this email (default: the active login)")
    .description("Revoke and remove stored logins, their contexts and their secrets")
    .option("--all", "log out every login")
    .addHelpText(
      "after",
      `
Each login's refresh token is revoked at its sign-in server first; if that fails (no network),
the login is still removed here and a warning says so. The kubectl users 'auth update-kubeconfig'
wrote for the removed logins ($KUBECONFIG, else ~/.kube/config) are removed too, with the
contexts that use them.

Examples:
  # Log out of the active login
  datumctl logout

  # Log out jane@acme.com on every server
  datumctl logout jane@acme.com

  # Forget everything
  datumctl logout --all`,
    )
    .action(async (email: string | undefined, flags: { all?: boolean }) => {
      const io = ctx.io;
      if (flags.all && email) {
        throw new UsageError("cannot specify an email when using --all", "Give one or the other.");
      }
      const [{ logout }, { CredentialStore }, { hostOf }] = await Promise.all([
        import("../lib/auth/sessions.ts"),
        import("../lib/store/credentials.ts"),
        import("../lib/auth/endpoints.ts"),
      ]);
      const store = new CredentialStore({ env: (n) => io.env(n), warn: (l) => io.err(`${l}\n`) });
      const target = flags.all ? "all" : email ? { email } : "active";
      const result = await logout(target, store, { env: (n) => io.env(n) });
      for (const problem of result.unrevoked) {
        io.err(
          `warning: ${
            terminalLine(problem)
          }; it was forgotten here but stays valid until it expires\n`,
        );
      }
      for (const problem of result.problems) {
        io.err(`warning: could not delete a stored secret (${terminalLine(problem)})\n`);
      }
      await forgetKubeconfigUsers(io, target === "all" ? "all" : result.removed.map((s) => s.name));
      if (target === "all") {
        io.out(successLine(io, "Logged out all users."));
      } else if (target === "active") {
        const s = result.removed[0];
        io.out(successLine(io, `Logged out ${s["user-email"]} (${hostOf(s.endpoint.server)}).`));
      } else {
        io.out(successLine(io, `Logged out ${email}.`));
      }
    });
};
