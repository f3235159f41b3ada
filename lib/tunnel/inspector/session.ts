/**
 * The request inspector of one `tunnel listen` run: enables the agent's capture, serves the
 * page and API (server.ts), and for a named tunnel leaves `inspector.json` in its folder so
 * `tunnel inspect --name N` can find it; closing undoes both.
 */
import { CliError, ExitCode } from "../../core/errors.ts";
import type { TunnelAgent } from "../agent.ts";
import { namedTunnelDir } from "../keys.ts";
import type { InspectSettings } from "./address.ts";
import { removeInspectorRecord, writeInspectorRecord } from "./record.ts";
import { startInspector } from "./server.ts";

/** A running inspector for one run. */
export interface InspectorSession {
  /** The address with the session token. */
  readonly url: string;
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the inspector for `agent`; for named tunnel `name`, records where it is. */
export async function openInspector(
  agent: TunnelAgent,
  settings: InspectSettings,
  options: { name?: string; env?: (name: string) => string | undefined } = {},
): Promise<InspectorSession> {
  const capture = agent.capture?.();
  if (!capture) {
    throw new CliError("INSPECTOR_UNSUPPORTED", "this tunnel engine cannot capture requests", {
      hint: "Rebuild the engine with `deno task engine`, or leave out --inspect.",
      exitCode: ExitCode.config,
    });
  }
  const server = startInspector(capture, settings);
  const dir = options.name !== undefined ? namedTunnelDir(options.name, options.env) : undefined;
  if (dir) {
    try {
      await writeInspectorRecord(dir, server);
    } catch (err) {
      await server.close();
      throw err;
    }
  }
  return {
    url: server.url,
    address: server.address,
    close: async () => {
      if (dir) await removeInspectorRecord(dir);
      await server.close();
    },
  };
}
