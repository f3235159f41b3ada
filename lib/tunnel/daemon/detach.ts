/**
 * `tunnel listen --detach`: start this datumctl again as a background process in its own session
 * (stdin, stdout and stderr closed; its events go to the named tunnel's log), then watch the
 * status file it keeps until the tunnel is ready, the process gives up, or the wait runs out.
 */
import { selfCommand } from "../../process/self-command.ts";
import { abortableSleep } from "../quota.ts";
import type { NamedTunnelFiles, TunnelStatusRecord } from "./record.ts";

/** How long the parent waits for readiness before handing over to `tunnel status` (~10 s). */
export const DETACH_READY_WAIT_MS = 10_000;

/** How the wait ended. */
export type DetachOutcome =
  | { kind: "ready"; pid: number; status: TunnelStatusRecord }
  | { kind: "slow"; pid: number; status?: TunnelStatusRecord }
  | { kind: "failed"; pid: number; exitCode: number; status?: TunnelStatusRecord };

/**
 * Spawns `datumctl <args>` detached and waits up to `waitMs` for it to report ready in
 * `files.status`. `args` must make the child a named tunnel writing to `files`.
 */
export async function startDetachedTunnel(options: {
  args: string[];
  files: NamedTunnelFiles;
  waitMs?: number;
  env?: Record<string, string>;
}): Promise<DetachOutcome> {
  const self = selfCommand();
  const startedAt = Date.now();
  const child = new Deno.Command(self.command, {
    args: [...self.args, ...options.args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
    env: options.env,
  }).spawn();
  child.unref();
  let exited: number | undefined;
  child.status.then((s) => (exited = s.code)).catch(() => (exited = 1));

  const deadline = startedAt + (options.waitMs ?? DETACH_READY_WAIT_MS);
  const pid = child.pid;
  while (true) {
    const status = await readStatusOf(options.files, pid);
    if (status?.state === "ready") return { kind: "ready", pid, status };
    if (exited !== undefined) {
      return {
        kind: "failed",
        pid,
        exitCode: exited,
        status: await readStatusOf(options.files, pid),
      };
    }
    if (Date.now() >= deadline) return { kind: "slow", pid, status };
    await abortableSleep(100);
  }
}

async function readStatusOf(
  files: NamedTunnelFiles,
  pid: number,
): Promise<TunnelStatusRecord | undefined> {
  try {
    const status = JSON.parse(await Deno.readTextFile(files.status)) as TunnelStatusRecord;
    return status.pid === pid ? status : undefined;
  } catch {
    return undefined;
  }
}
