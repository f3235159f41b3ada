/**
 * The verify phase: the origin answers, and a request through the public URL provably crosses
 * the tunnel to this agent, within the setup budget.
 */
import type { AgentStats, TunnelAgent } from "../agent.ts";
import { elapsedSecs, type TunnelEvent } from "../events.ts";
import { abortableSleep } from "../quota.ts";
import { probeOrigin, probePublic, type ProbeResult, publicUrl } from "../verify.ts";
import { loginLostError, remainingMs, setupTimeout, StopRequested } from "./errors.ts";
import { IROH_DNS_TTL_SECONDS } from "./options.ts";

/** What verification reads from the session. */
export interface VerifyContext {
  emit: (event: TunnelEvent) => void;
  stop: AbortSignal;
  deadline: number;
  setupStart: number;
  agent: TunnelAgent;
  origin: string;
  hostname: string;
  gateway?: string;
  intervalMs: number;
  timeoutMs: number;
  restartWindowEnds?: number;
  loginLost: () => unknown;
}

/** Peers whose refused-connection count grew between two snapshots. */
function newlyRefusedPeers(before: AgentStats, after: AgentStats): string[] {
  const was = new Map((before.denials ?? []).map((d) => [d.endpointId, d.connectionsRefused]));
  return (after.denials ?? []).filter((d) => d.connectionsRefused > (was.get(d.endpointId) ?? 0))
    .map((d) => d.endpointId);
}

/** Whether a request between two snapshots crossed the agent to the origin (no failure, no denial). */
export function tunnelled(before: AgentStats, after: AgentStats): boolean {
  return after.streamsTotal > before.streamsTotal &&
    after.originUnreachable === before.originUnreachable &&
    after.streamsDenied === before.streamsDenied;
}

function describeProbe(result: ProbeResult | undefined): string {
  if (!result) return "not probed yet";
  if (result.reachable) return `reachable (HTTP ${result.httpStatus})`;
  return `not reachable (${
    result.httpStatus !== undefined ? `HTTP ${result.httpStatus}` : result.error ?? "no answer"
  }${result.httpStatus !== undefined && result.error ? `: ${result.error}` : ""})`;
}

/**
 * Probes the origin and the public URL every 10 s until both answer below 500 — and the public
 * request provably crossed the tunnel to this agent (its stream counter moved, no origin failure
 * or denial): an edge answering 404 by itself proves nothing.
 */
export async function verifyConnectivity(ctx: VerifyContext): Promise<void> {
  ctx.emit({ type: "phase", phase: "verify" });
  const started = Date.now();
  let origin: ProbeResult | undefined;
  let pub: ProbeResult | undefined;
  let toldRestart = false;
  const publicLabel = `${publicUrl(ctx.hostname)}/`;
  while (true) {
    if (ctx.stop.aborted) throw new StopRequested();
    const lost = ctx.loginLost();
    if (lost) throw loginLostError(lost);
    const elapsed = elapsedSecs(Date.now() - started);
    const tasks: Promise<void>[] = [];
    if (!origin?.reachable) {
      tasks.push(
        probeOrigin(ctx.origin, ctx.stop).then((r) => {
          origin = r;
          ctx.emit({
            type: "verify",
            side: "origin",
            url: r.url,
            reachable: r.reachable,
            elapsed_secs: elapsed,
            http_status: r.httpStatus,
            error: r.error,
          });
        }),
      );
    }
    if (!pub?.reachable) {
      tasks.push((async () => {
        const before = ctx.agent.stats();
        let r = await probePublic(ctx.hostname, ctx.gateway, ctx.stop);
        const after = ctx.agent.stats();
        if (r.reachable && !tunnelled(before, after)) {
          r = {
            ...r,
            reachable: false,
            error: "answered, but the request did not reach this machine's tunnel agent",
          };
        }
        const refused = newlyRefusedPeers(before, after);
        if (!r.reachable && refused.length > 0) {
          r = {
            ...r,
            error: `${r.error ? `${r.error}; ` : ""}the agent refused peer ${
              refused.join(", ")
            } (not in --allow-peer)`,
          };
        }
        r = { ...r, url: publicLabel };
        pub = r;
        ctx.emit({
          type: "verify",
          side: "public",
          url: r.url,
          reachable: r.reachable,
          elapsed_secs: elapsed,
          http_status: r.httpStatus,
          error: r.error,
        });
        if (
          !r.reachable && !toldRestart && ctx.restartWindowEnds &&
          Date.now() < ctx.restartWindowEnds
        ) {
          toldRestart = true;
          ctx.emit({
            type: "warning",
            code: "restart_within_dns_ttl",
            message:
              `still inside the ${IROH_DNS_TTL_SECONDS}s iroh DNS TTL of the previous run: the public URL should answer within about ${
                Math.ceil((ctx.restartWindowEnds - Date.now()) / 1000)
              }s`,
          });
        }
      })());
    }
    await Promise.all(tasks);
    if (origin?.reachable && pub?.reachable) return;
    if (remainingMs(ctx.deadline) <= 0) {
      const summary = [
        `origin ${ctx.origin}: ${describeProbe(origin)}`,
        `public URL ${publicLabel}: ${describeProbe(pub)}`,
      ];
      for (const line of summary) {
        ctx.emit({ type: "warning", code: "timeout_summary", message: line });
      }
      throw setupTimeout("connectivity was not verified", summary);
    }
    await abortableSleep(
      Math.min(ctx.intervalMs, Math.max(0, remainingMs(ctx.deadline))),
      ctx.stop,
    );
  }
}
