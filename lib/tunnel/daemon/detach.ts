/**
 * `tunnel listen --detach`: start this datumctl again as a background process in its own session
 * (stdin, stdout and stderr closed; its events go to the named tunnel's log), then watch the
 * status file it keeps until the tunnel is ready, the process gives up, or the wait runs out.
 */
import { UsageError } from "../../core/errors.ts";
import { selfCommand } from "../../process/self-command.ts";
import type { InspectSettings } from "../inspector/address.ts";
import { abortableSleep } from "../quota.ts";
import type { NamedTunnelFiles, TunnelStatusRecord } from "./record.ts";

/** The environment variable through which `listen --detach` hands its child what it resolved. */
export const DETACHED_TUNNEL_ENV = "DATUMCTL_DETACHED_TUNNEL";

/**
 * What the parent resolved and checked, as the background process receives it: the scope
 * (project, the session that owns it, the tunnel's folder) and the request. It holds no secret:
 * the child loads the session's login from the credential store itself.
 */
export interface DetachedTunnel {
  name: string;
  projectId: string;
  /** The stored session whose login serves the tunnel (absent: the default one). */
  session?: string;
  /** The named tunnel's folder. */
  repo: string;
  endpoint?: string;
  id?: string;
  label?: string;
  /** The setup budget, as given (`10m`). */
  timeout: string;
  yes: boolean;
  /** `--allow-peer` ids as given (the child checks them, with its environment's list). */
  allowPeer: string[];
  inspect?: InspectSettings;
}

/**
 * Reads {@link DETACHED_TUNNEL_ENV} in the background process; its absence or a value that is
 * not what `listen --detach` writes means the internal flag was used by hand (a usage error).
 */
export function readDetachedTunnel(text: string | undefined): DetachedTunnel {
  let value: Partial<DetachedTunnel> | undefined;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch { /* reported below */ }
  const strings = (v: unknown) => typeof v === "string";
  if (
    !value || typeof value !== "object" || !strings(value.name) || !strings(value.projectId) ||
    !strings(value.repo) || !strings(value.timeout) || !Array.isArray(value.allowPeer)
  ) {
    throw new UsageError(
      `--daemon-child is internal: it needs the tunnel ${DETACHED_TUNNEL_ENV} describes`,
      "Start a background tunnel with 'datumctl tunnel listen PORT --name N --detach'.",
    );
  }
  return value as DetachedTunnel;
}

/** How long the parent waits for readiness before handing over to `tunnel status` (~10 s). */
export const DETACH_READY_WAIT_MS = 10_000;

/** How the wait ended. */
export type DetachOutcome =
  | { kind: "ready"; pid: number; status: TunnelStatusRecord }
  | { kind: "slow"; pid: number; status?: TunnelStatusRecord }
  | { kind: "failed"; pid: number; exitCode: number; status?: TunnelStatusRecord };

/**
 * Spawns `datumctl tunnel listen --daemon-child` detached, with `tunnel` in its environment, and
 * waits up to `waitMs` for it to report ready in `files.status` (the named tunnel's files).
 */
export async function startDetachedTunnel(options: {
  tunnel: DetachedTunnel;
  files: NamedTunnelFiles;
  waitMs?: number;
}): Promise<DetachOutcome> {
  const self = selfCommand();
  const startedAt = Date.now();
  const child = new Deno.Command(self.command, {
    args: [...self.args, "tunnel", "listen", "--daemon-child"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
    env: { [DETACHED_TUNNEL_ENV]: JSON.stringify(options.tunnel) },
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
