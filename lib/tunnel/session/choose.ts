/**
 * The choose phase: which tunnel this session serves (`--id`, the same endpoint, a new one, or
 * the picker) and the one target this machine lets its agent reach (decided in ../targets.ts).
 * Nothing changes on the server here, and the engine has not started (nothing garbles a prompt).
 */
import { CliError, ExitCode, UsageError } from "../../core/errors.ts";
import { normalizeEndpoint, parseTarget } from "../endpoint.ts";
import { readTunnelState } from "../state.ts";
import { type ApprovedTarget, commandLineTarget, decideTarget, sameTarget } from "../targets.ts";
import { randomLabel, type TunnelService, type TunnelSummary } from "../tunnel-api.ts";
import type { ListenOptions } from "./options.ts";

/** How the tunnel to serve was chosen, and the one target this machine lets its agent reach. */
export type TunnelChoice =
  | { kind: "create"; endpoint: string; label: string; target: ApprovedTarget }
  | {
    kind: "existing";
    summary: TunnelSummary;
    action: "adopted" | "resumed";
    via: "endpoint" | "id" | "picker" | "only_candidate";
    /** A new label to apply. */
    relabel?: string;
    target: ApprovedTarget;
  };

function neitherFlagError(message: string): UsageError {
  return new UsageError(
    message,
    "Pass --endpoint HOST:PORT (or just a port) to create or reuse a tunnel, or --id ID to resume one ('datumctl tunnel list' shows them).",
  );
}

/**
 * Picks the tunnel without changing anything on the server: `--id` (its endpoint must match a
 * given `--endpoint`), else the tunnel with the same normalized endpoint (or a new one), else
 * the picker on a TTY (one candidate is taken without asking). The target comes from the
 * command line, or for a resume from this machine's record (see targets.ts); a tunnel this
 * machine recorded for the endpoint that the server now points elsewhere is refused (64).
 */
export async function chooseTunnel(
  service: TunnelService,
  options: Pick<ListenOptions, "request" | "interactive" | "confirm" | "pick" | "name">,
): Promise<TunnelChoice> {
  const { id, label, yes } = options.request;
  const endpoint = options.request.endpoint !== undefined
    ? normalizeEndpoint(options.request.endpoint)
    : undefined;
  if (endpoint !== undefined) parseTarget(endpoint);

  const relabelOf = async (summary: TunnelSummary): Promise<string | undefined> => {
    if (label === undefined || label === summary.label) return undefined;
    if (yes) return label;
    if (!options.interactive) {
      throw new UsageError(
        `tunnel ${summary.id} is labelled "${summary.label}", not "${label}"`,
        "Pass --yes to relabel it, or leave out --label to keep its label.",
      );
    }
    const ok = await options.confirm(
      `Tunnel ${summary.id} is labelled "${summary.label}". Relabel it "${label}"?`,
    );
    return ok ? label : undefined;
  };

  const resumeTarget = async (summary: TunnelSummary): Promise<ApprovedTarget> => {
    const local = (await readTunnelState(service.repo)).find((e) => e.id === summary.id);
    return await decideTarget({
      tunnelId: summary.id,
      serverEndpoint: summary.endpoint,
      localRecord: local?.target,
      name: options.name,
      interactive: options.interactive,
      confirm: options.confirm,
    });
  };

  if (id) {
    const summary = await service.require(id);
    if (endpoint !== undefined && summary.endpoint !== endpoint) {
      throw new CliError(
        "TUNNEL_ENDPOINT_MISMATCH",
        `tunnel ${id} forwards to ${summary.endpoint}, not ${endpoint}`,
        {
          hint:
            `Its URL may already be shared, so listen never re-targets it. To change it, run 'datumctl tunnel update --id ${id} --endpoint ${endpoint}'; or leave out --endpoint to keep ${summary.endpoint}.`,
          exitCode: ExitCode.rejected,
        },
      );
    }
    return {
      kind: "existing",
      summary,
      action: "resumed",
      via: "id",
      relabel: await relabelOf(summary),
      target: endpoint !== undefined ? commandLineTarget(endpoint) : await resumeTarget(summary),
    };
  }

  if (endpoint !== undefined) {
    const target = commandLineTarget(endpoint);
    const mine = await service.list();
    const found = mine.find((t) => t.endpoint === endpoint);
    if (found) {
      return {
        kind: "existing",
        summary: found,
        action: "adopted",
        via: "endpoint",
        relabel: await relabelOf(found),
        target,
      };
    }
    const recorded = new Set(
      (await readTunnelState(service.repo)).filter((e) => sameTarget(e.target, target))
        .map((e) => e.id),
    );
    const moved = mine.find((t) => recorded.has(t.id));
    if (moved) throw retargeted(moved, endpoint, options.name);
    // A named tunnel's new tunnel is labelled with its name, as `tunnel install` does.
    return { kind: "create", endpoint, label: label ?? options.name ?? randomLabel(), target };
  }

  if (!options.interactive) {
    throw neitherFlagError(
      "tunnel listen needs --endpoint or --id when there is no terminal to ask",
    );
  }
  const candidates = (await service.list())
    .filter((t) => t.hostnames.length > 0)
    .sort((a, b) => Number(b.enabled) - Number(a.enabled));
  if (candidates.length === 0) {
    throw neitherFlagError(`no tunnel of this machine to resume in project ${service.projectId}`);
  }
  if (candidates.length === 1) {
    return {
      kind: "existing",
      summary: candidates[0],
      action: "resumed",
      via: "only_candidate",
      target: await resumeTarget(candidates[0]),
    };
  }
  const picked = await options.pick(candidates);
  return {
    kind: "existing",
    summary: picked,
    action: "resumed",
    via: "picker",
    target: await resumeTarget(picked),
  };
}

/** This machine's tunnel for `endpoint` now points elsewhere on the server: never followed. */
function retargeted(summary: TunnelSummary, endpoint: string, name?: string): CliError {
  const named = name ? ` --name ${name}` : "";
  return new CliError(
    "TUNNEL_RETARGETED",
    `tunnel ${summary.id}, which this machine serves as ${endpoint}, now forwards to ${summary.endpoint} on the server (changed elsewhere)`,
    {
      hint:
        `Point it back with 'datumctl tunnel update${named} --id ${summary.id} --endpoint ${endpoint}', or serve the server's target with 'datumctl tunnel listen${named} --id ${summary.id} --endpoint ${summary.endpoint}'.`,
      exitCode: ExitCode.rejected,
    },
  );
}
