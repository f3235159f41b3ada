/**
 * `datumctl tunnel self-test` (hidden): loads the tunnel engine and carries one HTTP request
 * through a loopback tunnel. The release workflow runs it on every compiled binary to prove
 * the embedded engine works on that platform; support can ask a user to run it too.
 */
import { Option } from "commander";
import type { RegisterInGroup } from "../command-context.ts";
import { parseOutputFormat, renderStructured, successLine } from "../../lib/ui/output.ts";

const FORMATS = ["text", "json", "yaml"] as const;

/** Adds the hidden `self-test` to the `tunnel` group. */
export const register: RegisterInGroup = (tunnel, ctx) => {
  tunnel
    .command("self-test", { hidden: true })
    .description(
      "Check that the tunnel engine loads and carries a request through a loopback tunnel " +
        "(no network, no login needed).",
    )
    .addOption(new Option("-o, --output <format>", "output format").choices([...FORMATS]))
    .action(async (opts: { output?: string }) => {
      const format = parseOutputFormat(opts.output, FORMATS, "text");
      const { runEngineSelfTest } = await import("../../lib/release/engine-selftest.ts");
      const result = await runEngineSelfTest();
      if (format !== "text") return ctx.io.out(renderStructured(result, format));
      ctx.io.out(successLine(
        ctx.io,
        `tunnel engine ${result.platform} loaded; a request crossed a loopback tunnel ` +
          `(HTTP ${result.status}, ${result.elapsedMs} ms)`,
      ));
    });
};
