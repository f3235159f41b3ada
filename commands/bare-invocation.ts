/**
 * Bare `datumctl`: a landing page instead of a wall of help — who you are, where commands run,
 * and the next commands worth typing. Scripts use `whoami -o json` instead.
 *
 * It is not a commander action: a root action would turn every mistyped command into "too many
 * arguments" instead of "unknown command … Did you mean …".
 */
import type { CommandContext } from "./command-context.ts";
import { landingSummary } from "../lib/scope/landing-summary.ts";
import { renderLanding } from "../lib/ui/landing-page.ts";

/** Prints the landing page. */
export async function showLanding(ctx: CommandContext): Promise<void> {
  ctx.io.out(renderLanding(landingSummary(await ctx.config()), ctx.version));
}
