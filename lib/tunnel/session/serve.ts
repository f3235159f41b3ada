/**
 * The serve phase, after ready: statistics, requests and path changes every second; the shown
 * state follows the heartbeat and the public URL; every 10 s the tunnel, its Connector and the
 * login are checked. Ends on Ctrl-C, a wake that asks for it, or the error that stopped it.
 */
import type { ApiClient } from "../../api/client.ts";
import type { CliError } from "../../core/errors.ts";
import type { AgentStats, TunnelAgent } from "../agent.ts";
import type { TunnelEvent } from "../events.ts";
import type { HealthTracker } from "../health.ts";
import { isLoginLost } from "../heartbeat.ts";
import { terminalFailure } from "../progress.ts";
import { abortableSleep } from "../quota.ts";
import { proxyBackend } from "../resources.ts";
import type { TunnelService } from "../tunnel-api.ts";
import { probePublic } from "../verify.ts";
import { loginLostError, terminalError, terminalFailureBlock, tunnelDeleted } from "./errors.ts";
import type { ListenIntervals } from "./options.ts";
import { tunnelled } from "./verify.ts";

/** What the runtime watch reads from the session. */
export interface RuntimeContext {
  health: HealthTracker;
  hostname: string;
  gateway?: string;
  service: TunnelService;
  client: ApiClient;
  id: string;
  agent: TunnelAgent;
  emit: (event: TunnelEvent) => void;
  stop: AbortSignal;
  intervals: ListenIntervals;
  keyPath: string;
  onStats?: (stats: AgentStats) => void;
  loginLost: () => unknown;
  setWake: (wake: () => void) => void;
}

/** How the runtime watch ended. */
export type RuntimeEnding = { reason: "interrupted" } | { reason: "failed"; error: CliError };

/**
 * After ready: statistics every second (counters and path changes), and every 10 s the tunnel,
 * its Connector and the login. Ends on Ctrl-C, or with the error that stopped it.
 */
export async function watchRuntime(ctx: RuntimeContext): Promise<RuntimeEnding> {
  const ended = new AbortController();
  const local = AbortSignal.any([ctx.stop, ended.signal]);
  ctx.setWake(() => ended.abort());
  let failure: CliError | undefined;
  const fail = (error: CliError) => {
    failure ??= error;
    ended.abort();
  };

  const statsLoop = (async () => {
    let last = "";
    const paths = new Map<string, string>();
    const refusedPeers = new Set<string>();
    while (!local.aborted) {
      const s = ctx.agent.stats();
      try {
        ctx.onStats?.(s);
      } catch { /* a status line must never stop the tunnel */ }
      const denials = s.denials ?? [];
      const counters = {
        requests_total: s.streamsTotal,
        requests_active: s.streamsActive,
        requests_denied: s.streamsDenied,
        origin_unreachable: s.originUnreachable,
        bytes_to_origin: s.bytesToOrigin,
        bytes_from_origin: s.bytesFromOrigin,
        ...(denials.length > 0
          ? {
            denied_by_peer: denials.map((d) => ({
              peer: d.endpointId,
              requests_denied: d.requestsDenied,
              connections_refused: d.connectionsRefused,
            })),
          }
          : {}),
      };
      for (const d of denials) {
        if (d.connectionsRefused > 0 && !refusedPeers.has(d.endpointId)) {
          refusedPeers.add(d.endpointId);
          ctx.emit({
            type: "warning",
            code: "peer_refused",
            message:
              `refused a connection from peer ${d.endpointId}: it is not in --allow-peer (DATUMCTL_TUNNEL_ALLOWED_PEERS)`,
          });
        }
      }
      const served = ctx.agent.drainRequests();
      for (const r of served.requests) {
        ctx.emit({
          type: "request",
          method: r.method,
          path: r.path,
          status: r.status,
          duration_ms: Math.round(r.durationMs * 10) / 10,
          peer: r.peer,
        });
      }
      if (served.dropped > 0) {
        ctx.emit({
          type: "warning",
          code: "requests_dropped",
          message: `${served.dropped} requests were served but not logged (too many at once)`,
        });
      }
      const key = JSON.stringify(counters);
      if (key !== last) {
        last = key;
        ctx.emit({ type: "stats", ...counters });
      }
      const seen = new Set<string>();
      for (const peer of s.peers) {
        seen.add(peer.endpointId);
        const signature = `${peer.path}|${peer.remoteAddr ?? ""}`;
        if (paths.get(peer.endpointId) !== signature) {
          paths.set(peer.endpointId, signature);
          ctx.emit({
            type: "path",
            peer: peer.endpointId,
            path: peer.path,
            remote_addr: peer.remoteAddr,
            rtt_ms: peer.rttMs === undefined ? undefined : Math.round(peer.rttMs * 10) / 10,
          });
        }
      }
      for (const peer of [...paths.keys()]) {
        if (!seen.has(peer)) {
          paths.delete(peer);
          ctx.emit({ type: "path", peer, path: "none" });
        }
      }
      await abortableSleep(ctx.intervals.statsMs, local);
    }
  })();

  // The state shown follows the heartbeat and the public URL, not the fact that setup finished.
  const healthLoop = (async () => {
    while (!local.aborted) {
      await abortableSleep(ctx.intervals.healthMs, local);
      if (local.aborted) break;
      if (ctx.health.needsCheck()) {
        const before = ctx.agent.stats();
        const r = await probePublic(ctx.hostname, ctx.gateway, local);
        if (local.aborted) break;
        const crossed = r.reachable && tunnelled(before, ctx.agent.stats());
        ctx.health.publicChecked({
          reachable: crossed,
          httpStatus: r.httpStatus,
          error: r.reachable && !crossed
            ? "answered, but the request did not reach this machine's tunnel agent"
            : r.error,
        }, Date.now());
      }
      const change = ctx.health.evaluate(Date.now());
      if (change) {
        ctx.emit({
          type: "warning",
          code: change.state === "degraded" ? "tunnel_degraded" : "tunnel_recovered",
          message: change.message,
        });
      }
    }
  })();

  const watchLoop = (async () => {
    while (!local.aborted) {
      await abortableSleep(ctx.intervals.watchMs, local);
      if (local.aborted) break;
      const lost = ctx.loginLost();
      if (lost) return fail(loginLostError(lost));
      try {
        await ctx.client.auth.tokens.accessToken();
      } catch (err) {
        if (isLoginLost(err)) return fail(loginLostError(err));
        ctx.emit({ type: "warning", code: "login_check", message: (err as Error).message });
      }
      try {
        const proxy = await ctx.service.getProxy(ctx.id);
        if (!proxy) {
          ctx.emit({
            type: "warning",
            code: "deleted_upstream",
            message: `Tunnel ${ctx.id} no longer exists on the server. Stopping.`,
          });
          return fail(tunnelDeleted(ctx.id));
        }
        const connectorName = proxyBackend(proxy)?.connector?.name;
        const connector = connectorName ? await ctx.service.getConnector(connectorName) : undefined;
        const terminal = terminalFailure(connector);
        if (terminal) {
          ctx.emit({
            type: "warning",
            code: "terminal_failure",
            step: terminal.step,
            resource: terminal.resource,
            message: terminalFailureBlock(terminal, ctx.keyPath).join("\n"),
          });
          return fail(terminalError(terminal, ctx.keyPath));
        }
      } catch (err) {
        if (isLoginLost(err)) return fail(loginLostError(err));
        ctx.emit({ type: "warning", code: "watch_error", message: (err as Error).message });
      }
    }
  })();

  await Promise.race([
    new Promise<void>((resolve) =>
      local.addEventListener("abort", () => resolve(), { once: true })
    ),
    watchLoop,
  ]);
  ended.abort();
  await Promise.allSettled([statsLoop, watchLoop, healthLoop]);
  if (failure) return { reason: "failed", error: failure };
  const lost = ctx.loginLost();
  if (lost) return { reason: "failed", error: loginLostError(lost) };
  return { reason: "interrupted" };
}
