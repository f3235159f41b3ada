/**
 * The checklist phase: polls the tunnel's HTTPProxy and its Connector until the six setup steps
 * are ready (emitting each step and stalls), within the setup budget.
 */
import { ApiError } from "../../api/errors.ts";
import { CliError } from "../../core/errors.ts";
import { elapsedSecs, type TunnelEvent } from "../events.ts";
import { isLoginLost } from "../heartbeat.ts";
import { progressSnapshot, ProgressTracker, terminalFailure } from "../progress.ts";
import { abortableSleep } from "../quota.ts";
import { proxyBackend } from "../resources.ts";
import type { TunnelService } from "../tunnel-api.ts";
import {
  loginLostError,
  remainingMs,
  setupTimeout,
  StopRequested,
  terminalError,
  tunnelDeleted,
} from "./errors.ts";

/** Consecutive setup poll failures tolerated (≈7.5 s); the next one aborts. */
export const MAX_CONSECUTIVE_POLL_ERRORS = 10;

/** What the checklist reads from the session. */
export interface ChecklistContext {
  emit: (event: TunnelEvent) => void;
  stop: AbortSignal;
  deadline: number;
  setupStart: number;
  intervalMs: number;
  keyPath: string;
  loginLost: () => unknown;
  nudgeHeartbeat?: () => void;
}

/** Polls the HTTPProxy and its Connector until every step is ready; returns the hostname. */
export async function awaitChecklist(
  service: TunnelService,
  id: string,
  ctx: ChecklistContext,
): Promise<string> {
  const tracker = new ProgressTracker(ctx.setupStart);
  let consecutiveErrors = 0;
  let lastPending: string[] = [];
  while (true) {
    if (ctx.stop.aborted) throw new StopRequested();
    const lost = ctx.loginLost();
    if (lost) throw loginLostError(lost);
    if (remainingMs(ctx.deadline) <= 0) {
      throw setupTimeout(
        `still waiting for ${lastPending.join(", ") || "the control plane"}`,
        lastPending.length > 0 ? [`pending: ${lastPending.join(", ")}`] : [],
      );
    }
    try {
      const proxy = await service.getProxy(id);
      if (!proxy) throw tunnelDeleted(id);
      const connectorName = proxyBackend(proxy)?.connector?.name;
      const connector = connectorName ? await service.getConnector(connectorName) : undefined;
      consecutiveErrors = 0;
      const failure = terminalFailure(connector);
      if (failure) throw terminalError(failure, ctx.keyPath);
      const snapshot = progressSnapshot(proxy, connector);
      for (const t of tracker.observe(snapshot, Date.now())) {
        if (t.kind === "stalled") {
          const why = t.step.message || t.step.reason || t.step.status;
          ctx.emit({
            type: "warning",
            code: "step_pending",
            step: t.step.id,
            resource: t.step.resource,
            message: `${t.step.label} still pending after ${Math.round(t.pendingMs / 1000)}s${
              t.step.resource ? ` [${t.step.resource}]` : ""
            }: ${why}`,
          });
          continue;
        }
        ctx.emit({
          type: "step",
          step: t.step.id,
          label: t.step.label,
          status: t.step.status,
          resource: t.step.resource ?? null,
          elapsed_secs: elapsedSecs(t.elapsedMs),
          reason: t.step.reason,
          message: t.step.message,
        });
      }
      lastPending = snapshot.steps.filter((s) => s.status !== "ready").map((s) =>
        `${s.label}${s.resource ? ` [${s.resource}]` : ""}${
          s.message || s.reason ? `: ${s.message || s.reason}` : ""
        }`
      );
      if (snapshot.steps.every((s) => s.status === "ready") && snapshot.hostnames.length === 0) {
        lastPending = ["a hostname for the tunnel"];
      }
      if (snapshot.done) return snapshot.hostnames[0];
      ctx.nudgeHeartbeat?.();
    } catch (err) {
      if (err instanceof CliError && !(err instanceof ApiError)) throw err;
      if (isLoginLost(err)) throw loginLostError(err);
      consecutiveErrors++;
      if (consecutiveErrors > MAX_CONSECUTIVE_POLL_ERRORS) throw err;
      ctx.emit({
        type: "warning",
        code: "poll_error",
        message:
          `checking the tunnel failed (${consecutiveErrors}/${MAX_CONSECUTIVE_POLL_ERRORS}): ${
            (err as Error).message
          }`,
      });
    }
    await abortableSleep(
      Math.min(ctx.intervalMs, Math.max(0, remainingMs(ctx.deadline))),
      ctx.stop,
    );
  }
}
