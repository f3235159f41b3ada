/**
 * `datumctl wait TYPE/NAME… --for=…`: block until resources reach a state, as `kubectl wait`
 * does: `--for=condition=Ready`, `--for=condition=Ready=False`, `--for=delete`,
 * `--for=jsonpath='{.status.phase}'=Running`, each within `--timeout` (default 30s).
 */
import type { Command } from "commander";
import type { CommandContext, RegisterCommands } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { clientFor, parseTypeArgs } from "./shared.ts";

interface WaitOptions {
  for?: string;
  timeout: string;
  selector?: string;
  all?: boolean;
  namespace?: string;
}

async function wait(cmd: Command, ctx: CommandContext, args: string[], opts: WaitOptions) {
  const [lib, { parseDuration }] = await Promise.all([
    import("../../lib/resources/wait.ts"),
    import("../../lib/tunnel/duration.ts"),
  ]);
  if (!opts.for) {
    throw new UsageError(
      "wait needs --for",
      "Example: datumctl wait httpproxies/web --for=condition=Programmed --timeout=2m",
    );
  }
  const condition = lib.parseWaitFor(opts.for);
  const timeoutMs = parseDuration(opts.timeout, "--timeout");
  const deadline = Date.now() + timeoutMs;
  const requests = parseTypeArgs(args);
  if (requests.length === 0) {
    throw new UsageError(
      "wait needs TYPE NAME… or TYPE/NAME…",
      "Example: datumctl wait connectors/c1 --for=condition=Ready",
    );
  }
  for (const request of requests) {
    const rc = await clientFor(cmd, ctx, request.type, opts);
    const type = await rc.resolveType(request.type);
    let names = request.names;
    if (names.length === 0) {
      if (!opts.all && !opts.selector) {
        throw new UsageError(
          `wait ${request.type} needs names, --selector or --all`,
          `Example: datumctl wait ${request.type} NAME --for=condition=Ready`,
        );
      }
      names = (await rc.list(type, { labelSelector: opts.selector, namespace: opts.namespace }))
        .items.map((o) => o.metadata?.name ?? "").filter(Boolean);
      if (names.length === 0) {
        throw new UsageError(`no ${request.type} matched`, "Check the selector ('datumctl get').");
      }
    }
    for (const name of names) {
      await lib.waitFor(rc, type, name, condition, deadline, { namespace: opts.namespace });
      ctx.io.out(
        `${rc.ref(type, name)} ${condition.kind === "delete" ? "deleted" : "condition met"}\n`,
      );
    }
  }
}

/** Registers `wait`. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("wait")
    .description("Wait until resources reach a condition, a field value, or are deleted")
    .argument("[type-and-names...]", "TYPE NAME… or TYPE/NAME…")
    .option("--for <state>", "condition=TYPE[=STATUS], jsonpath=EXPR[=VALUE] or delete")
    .option("--timeout <duration>", "give up after this long (30s, 5m, 1h)", "30s")
    .option("-l, --selector <selector>", "every object of TYPE matching this label selector")
    .option("--all", "every object of TYPE")
    .option("-n, --namespace <namespace>", "namespace of namespaced types")
    .addHelpText(
      "after",
      `
Prints one line per object once it is there ("condition met" or "deleted"). The timeout
covers all objects together. A condition without a status waits for True.

Exit status: 0 reached, 75 timed out (the state may still come), other codes as usual.

Examples:
  datumctl wait httpproxies/web --for=condition=Programmed --timeout=2m
  datumctl wait connectors c1 --for=condition=Ready=False
  datumctl wait httpproxies/web --for=jsonpath='{.status.hostnames[0]}'
  datumctl delete connectors c1 && datumctl wait connectors/c1 --for=delete`,
    )
    .action(async (args: string[], opts: WaitOptions, cmd: Command) => {
      await wait(cmd, ctx, args, opts);
    });
};
