/**
 * Who decides what this machine's agent may reach: this machine, never the server.
 *
 * A tunnel's HTTPProxy backend (`host:port`) can be edited by any member of the project, so
 * the server's value is only a claim. The agent's allowlist comes from this machine: the
 * endpoint given on its command line now (`--endpoint`, the positional argument, or an
 * installed service's definition, which its install command line wrote), or the tunnel's local
 * record (`state.yml` of the tunnel's folder). A server target that differs from the local
 * record, or a resume with no local record, is used only after the person at the terminal
 * confirms it; without a terminal it is refused (exit 64) naming `--endpoint`, which is how the
 * same target is given on purpose. A target that is not loopback (a LAN address, `0.0.0.0`, any
 * name but `localhost`, since names can resolve anywhere) is accepted only from the command
 * line, and then announced with a warning.
 *
 * `ApprovedTarget` is the only type the agent's allowlist takes, so an allowlist built straight
 * from server data does not type-check.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import { formatTarget, normalizeEndpoint, parseTarget, type Target } from "./endpoint.ts";

declare const approvedBrand: unique symbol;

/** Where a decided target came from. */
export type TargetSource = "command_line" | "local_record" | "confirmed";

/**
 * A target this machine decided the agent may dial. Only this module makes them, so an
 * allowlist built from server data does not type-check.
 */
export type ApprovedTarget = Target & {
  /** The normalized endpoint (`http://host:port`), for the origin probe and messages. */
  readonly endpoint: string;
  readonly source: TargetSource;
  readonly [approvedBrand]: true;
};

function approve(endpoint: string, source: TargetSource): ApprovedTarget {
  const normalized = normalizeEndpoint(endpoint);
  return { ...parseTarget(normalized), endpoint: normalized, source } as ApprovedTarget;
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (any spelling); false for every other host. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) return v4.slice(1).every((p) => Number(p) <= 255) && Number(v4[1]) === 127;
  if (!h.includes(":")) return false;
  // IPv6: ::1 in any zero-padded or expanded form.
  const parts = h.split("::");
  if (parts.length > 2) return false;
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  const head = groups(parts[0]);
  const tail = parts.length === 2 ? groups(parts[1]) : [];
  if ([...head, ...tail].some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return false;
  const all = parts.length === 2
    ? [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail]
    : head;
  return all.length === 8 && all.slice(0, 7).every((g) => Number.parseInt(g, 16) === 0) &&
    Number.parseInt(all[7], 16) === 1;
}

/** The same host (case-insensitive, brackets ignored) and port. */
export function sameTarget(a: Target, b: Target): boolean {
  const host = (t: Target) => t.host.toLowerCase().replace(/^\[|\]$/g, "");
  return host(a) === host(b) && a.port === b.port;
}

/** The warning for a target beyond this machine, or undefined for loopback. */
export function notLocalWarning(target: Target): string | undefined {
  if (isLoopbackHost(target.host)) return undefined;
  return `the tunnel forwards to ${
    formatTarget(target)
  }, which is not this machine (loopback): anyone who can reach its public URL reaches that address from this machine's network`;
}

/** A target given on this machine's command line (or an installed service's definition). */
export function commandLineTarget(endpoint: string): ApprovedTarget {
  return approve(endpoint, "command_line");
}

/** What {@link decideTarget} weighs for a tunnel resumed without an endpoint on the command line. */
export interface ResumeDecision {
  tunnelId: string;
  /** The backend endpoint the server holds now (a claim). */
  serverEndpoint: string;
  /** This machine's record of the tunnel's target (`state.yml`), when it has one. */
  localRecord?: Target;
  /** `--name N` of a named tunnel, for the hint. */
  name?: string;
  /** May we ask (a terminal)? */
  interactive: boolean;
  confirm: (question: string) => Promise<boolean>;
}

function withEndpointHint(d: ResumeDecision, target: string): string {
  const named = d.name ? ` --name ${d.name}` : "";
  return `If this machine should serve it, say so: 'datumctl tunnel listen${named} --id ${d.tunnelId} --endpoint ${target}'. Otherwise point the tunnel back with 'datumctl tunnel update${named} --id ${d.tunnelId} --endpoint HOST:PORT'.`;
}

/**
 * Decides the target of a resumed tunnel (by `--id`, the picker or the only candidate) from the
 * local record and the server's claim; throws exit 64 when this machine has not agreed to it.
 */
export async function decideTarget(d: ResumeDecision): Promise<ApprovedTarget> {
  let server: Target;
  try {
    server = parseTarget(d.serverEndpoint);
  } catch {
    throw new CliError(
      "TUNNEL_TARGET_INVALID",
      `tunnel ${d.tunnelId} has an unusable backend endpoint on the server: "${d.serverEndpoint}"`,
      { hint: withEndpointHint(d, "HOST:PORT"), exitCode: ExitCode.rejected },
    );
  }
  const shown = formatTarget(server);
  if (!isLoopbackHost(server.host)) {
    throw new CliError(
      "TUNNEL_TARGET_NOT_LOCAL",
      `tunnel ${d.tunnelId} forwards to ${shown} on the server, which is not this machine (loopback); a target beyond this machine is served only when given here with --endpoint`,
      { hint: withEndpointHint(d, shown), exitCode: ExitCode.rejected },
    );
  }
  if (d.localRecord && sameTarget(d.localRecord, server)) {
    return approve(d.serverEndpoint, "local_record");
  }
  const why = d.localRecord
    ? `but this machine last served it as ${formatTarget(d.localRecord)}`
    : "and this machine has no record of serving it";
  if (d.interactive) {
    const ok = await d.confirm(
      `Tunnel ${d.tunnelId} forwards to ${shown} on the server, ${why}. Let this machine's agent reach ${shown}?`,
    );
    if (ok) return approve(d.serverEndpoint, "confirmed");
    throw new CliError(
      "TUNNEL_TARGET_UNCONFIRMED",
      `not serving tunnel ${d.tunnelId}: ${shown} was not confirmed`,
      { hint: withEndpointHint(d, shown), exitCode: ExitCode.rejected },
    );
  }
  throw new CliError(
    "TUNNEL_TARGET_UNCONFIRMED",
    `tunnel ${d.tunnelId} forwards to ${shown} on the server, ${why}; without a terminal to confirm it, give the target with --endpoint`,
    { hint: withEndpointHint(d, shown), exitCode: ExitCode.rejected },
  );
}
