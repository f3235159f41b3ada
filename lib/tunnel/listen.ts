/**
 * `tunnel listen` from start to stop, as events: choose the tunnel (by
 * `--id`, by endpoint, or with the picker — before the engine starts, so nothing garbles the
 * prompt), start the agent and the heartbeat for this project only, create/adopt/resume and
 * enable, wait for the six-step checklist, prove the path end to end (the origin answers, and a
 * request through the public URL reaches this agent), report ready, then watch until Ctrl-C, a
 * terminal failure, a tunnel deleted on the server or a lost login; on the way out the tunnel is
 * disabled (its advertisement deleted; the hostname survives for `--id`).
 *
 * Exports {@link runListen}, {@link ListenOptions}, {@link chooseTunnel} and
 * {@link lastStopPath}. It never prints: every line the user sees comes from an emitted
 * {@link TunnelEvent}; failures are thrown as `CliError`s with the exit codes of
 * `docs/tunnel-events.md` (retryable 69/75, permanent 64/65/77/78).
 */
import type { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { readTextIfExists, writePrivateFile } from "../store/files.ts";
import type { AgentStats, StartAgent, TunnelAgent } from "./agent.ts";
import { buildConnectionDetails } from "./details.ts";
import { normalizeEndpoint, parseTarget } from "./endpoint.ts";
import { elapsedSecs, type StopReason, type TunnelEvent } from "./events.ts";
import { Heartbeat, isLoginLost } from "./heartbeat.ts";
import { HealthTracker } from "./health.ts";
import { endpointIdFromSecret, listenKeyPath, loadOrCreateListenKey } from "./keys.ts";
import {
  progressSnapshot,
  ProgressTracker,
  type TerminalFailure,
  terminalFailure,
} from "./progress.ts";
import { abortableSleep } from "./quota.ts";
import type { RelaySettings } from "./relays.ts";
import { proxyBackend } from "./resources.ts";
import { randomLabel, TunnelService, type TunnelSummary } from "./tunnel-api.ts";
import { findStackGateway } from "./stack-gateway.ts";
import { readTunnelState, removeTunnelEntry } from "./state.ts";
import {
  type ApprovedTarget,
  commandLineTarget,
  decideTarget,
  notLocalWarning,
  sameTarget,
} from "./targets.ts";
import { TokenKeeper } from "./token-keeper.ts";
import { WakeDetector, WakeRecovery, wakeThresholdMs } from "./wake.ts";
import { AddressMemory, readRememberedEndpoint, startOnRememberedPort } from "./stable-address.ts";
import { probeOrigin, probePublic, type ProbeResult, publicUrl } from "./verify.ts";

/** What the user asked for. */
export interface ListenRequest {
  /** `--endpoint` or the positional argument, as typed. */
  endpoint?: string;
  id?: string;
  label?: string;
  yes: boolean;
  /** The budget of the whole setup, verification included (default 10 min). */
  timeoutMs: number;
}

/** Everything {@link runListen} needs. */
export interface ListenOptions {
  /** A client for the project's control plane. */
  client: ApiClient;
  projectId: string;
  /** The datum-connect data folder, or the named tunnel's own folder. */
  repo: string;
  /** The tunnel name (`--name`): for messages and a new tunnel's label; its folder is `repo`. */
  name?: string;
  request: ListenRequest;
  relay: RelaySettings;
  /** Starts the engine's agent (loaded lazily by the caller). */
  startAgent: StartAgent;
  /**
   * Endpoint ids (64 lowercase hex) of the only peers the agent serves (`--allow-peer`); every
   * other peer is refused at the connection. Empty or unset: any peer that knows the endpoint id.
   */
  allowedPeers?: string[];
  /** May we prompt (stdin is a TTY)? */
  interactive: boolean;
  /** Asks a yes/no question (only called when `interactive`). */
  confirm: (question: string) => Promise<boolean>;
  /** Lets the user choose among several tunnels (only called when `interactive`). */
  pick: (candidates: TunnelSummary[]) => Promise<TunnelSummary>;
  /** Receives every event, in order. */
  emit: (event: TunnelEvent) => void;
  /** Receives the agent's statistics every second after ready (for a live status line). */
  onStats?: (stats: AgentStats) => void;
  /** Aborts on the first Ctrl-C/SIGTERM: stop and disable. */
  stop: AbortSignal;
  /** Aborts on a second signal: give up on clean-up waits. */
  force?: AbortSignal;
  /** Send the public-URL probe to this local gateway with `Host: <hostname>` (local stack). */
  gateway?: string;
  /** Create a TrafficProtectionPolicy per new tunnel. */
  trafficProtection?: boolean;
  /** Force a ConnectorClass name for a new Connector. */
  connectorClass?: string;
  /** Milliseconds between setup polls (750) and runtime watch ticks (10 000); tests shorten them. */
  intervals?: Partial<ListenIntervals>;
}

/** Poll cadences of the lifecycle. */
export interface ListenIntervals {
  progressMs: number;
  verifyMs: number;
  watchMs: number;
  statsMs: number;
  /** While the heartbeat fails or the tunnel is degraded: how often the public URL is checked. */
  healthMs: number;
}

const DEFAULT_INTERVALS: ListenIntervals = {
  progressMs: 750,
  verifyMs: 10_000,
  watchMs: 10_000,
  statsMs: 1_000,
  healthMs: 3_000,
};

/** Consecutive setup poll failures tolerated (≈7.5 s); the next one aborts. */
export const MAX_CONSECUTIVE_POLL_ERRORS = 10;

/** The iroh DNS TTL the operator publishes by default; a restart within it waits it out. */
export const IROH_DNS_TTL_SECONDS = 30;

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

/** `<repo>/projects/<pid>/last_stop`: when a listener of this project last stopped (RFC 3339). */
export function lastStopPath(repo: string, projectId: string): string {
  return listenKeyPath(repo, projectId).replace(/listen_key$/, "last_stop");
}

class StopRequested extends Error {}

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

async function readLastStop(path: string): Promise<Date | undefined> {
  try {
    const text = (await readTextIfExists(path))?.trim();
    if (!text) return undefined;
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? undefined : date;
  } catch {
    return undefined;
  }
}

function remainingMs(deadline: number): number {
  return deadline - Date.now();
}

function describeProbe(result: ProbeResult | undefined): string {
  if (!result) return "not probed yet";
  if (result.reachable) return `reachable (HTTP ${result.httpStatus})`;
  return `not reachable (${
    result.httpStatus !== undefined ? `HTTP ${result.httpStatus}` : result.error ?? "no answer"
  }${result.httpStatus !== undefined && result.error ? `: ${result.error}` : ""})`;
}

function terminalError(failure: TerminalFailure, keyPath: string): CliError {
  const owner = failure.owner ? `Connector ${failure.owner}` : "another Connector";
  const ours = failure.resource ?? "this machine's Connector";
  return new CliError(
    "TUNNEL_DNS_OWNED_ELSEWHERE",
    `iroh DNS for this machine's tunnel key is owned by ${owner}, so ${ours} can never be reached (${failure.reason})`,
    {
      hint:
        `Delete ${keyPath} to start with a fresh identity (resume with --id to keep the hostname), or delete ${owner}.`,
      exitCode: ExitCode.config,
    },
  );
}

/** The framed block printed when a terminal failure appears while the tunnel runs. */
export function terminalFailureBlock(failure: TerminalFailure, keyPath: string): string[] {
  return [
    `Tunnel failed at step: ${failure.label}${failure.resource ? ` [${failure.resource}]` : ""}`,
    `  reason:  ${failure.reason}`,
    `  message: ${failure.message}`,
    `Two Connectors claim this machine's key. Delete ${keyPath} for a fresh identity, or delete ${
      failure.owner ? `Connector ${failure.owner}` : "the other Connector"
    }.`,
  ];
}

function loginLostError(err: unknown): CliError {
  // The refresh's own error says which login and how to renew it; an API 401 says nothing more.
  const why = err instanceof CliError && !(err instanceof ApiError) ? err : undefined;
  return new CliError(
    "LOGIN_LOST",
    `Datum login has expired or been revoked; the tunnel was stopped${
      why ? ` (${why.message})` : ""
    }`,
    {
      hint: why?.hint
        ? `${why.hint.replace(/\.$/, "")}, then start the tunnel again.`
        : "Run 'datumctl login' to sign in again, then start the tunnel again.",
      exitCode: ExitCode.noPermission,
      cause: err,
    },
  );
}

/** `<repo>/projects/<pid>/listen.lock`: held by the one listener of a project on this machine. */
export function listenLockPath(repo: string, projectId: string): string {
  return listenKeyPath(repo, projectId).replace(/listen_key$/, "listen.lock");
}

/** How often a queued listener tries the lock again. */
const LOCK_RETRY_MS = 500;

/**
 * Takes the project's listener lock: two listeners sharing one iroh identity would overwrite each
 * other's connection details on the one Connector. A second listener queues behind the holder
 * (after saying so). Only unnamed listeners can meet here: a named tunnel has a folder of its own,
 * whose name lock its process took first (`lockNamedTunnel`, a conflict there is exit 64).
 * Resolves `undefined` when `stop` aborts the wait.
 */
async function acquireListenLock(
  repo: string,
  projectId: string,
  stop: AbortSignal,
  waiting: (holderPid: string | undefined) => void,
): Promise<Deno.FsFile | undefined> {
  const path = listenLockPath(repo, projectId);
  await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true, mode: 0o700 });
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  let announced = false;
  while (!(await file.tryLock(true))) {
    const text = (await Deno.readTextFile(path).catch(() => "")).trim();
    const holder = /^\d+$/.test(text) ? text : undefined;
    if (!announced) {
      announced = true;
      waiting(holder);
    }
    await abortableSleep(LOCK_RETRY_MS, stop);
    if (stop.aborted) {
      file.close();
      return undefined;
    }
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}

/**
 * Runs `tunnel listen` until it stops. Resolves after a clean stop (Ctrl-C/SIGTERM); throws a
 * `CliError` for every other ending, after disabling the tunnel. Only one listener per project
 * (or name) runs on a machine at a time; unnamed ones queue.
 */
export async function runListen(options: ListenOptions): Promise<void> {
  const lock = await acquireListenLock(
    options.repo,
    options.projectId,
    options.stop,
    (holder) =>
      options.emit({
        type: "warning",
        code: "listener_queued",
        message:
          `Another 'datumctl tunnel listen' is serving project ${options.projectId} on this machine${
            holder ? ` (pid ${holder})` : ""
          }; waiting for it to stop (tunnels of a project share one iroh identity, use --name for a separate one)...`,
      }),
  );
  if (!lock) return;
  try {
    await runLocked(options);
  } finally {
    try {
      await lock.unlock();
    } catch { /* closing releases it anyway */ }
    lock.close();
  }
}

async function runLocked(options: ListenOptions): Promise<void> {
  const emit = (event: TunnelEvent) => {
    try {
      options.emit(event);
    } catch { /* rendering must never break the tunnel */ }
  };
  const intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
  const { projectId, repo, stop } = options;

  const key = await loadOrCreateListenKey(repo, projectId);
  const endpointId = await endpointIdFromSecret(key.secret);
  // Read before anything changes on the server: a file we cannot read stops us here (65).
  const remembered = await readRememberedEndpoint(repo, projectId);
  // Filled in once the engine starts (after the picker); the service reads it lazily.
  const started: { agent?: TunnelAgent } = {};
  const service = new TunnelService({
    client: options.client,
    projectId,
    endpointId,
    repo,
    connectionDetails: () =>
      started.agent
        ? buildConnectionDetails(endpointId, started.agent.address() ?? { direct: [] })
        : undefined,
    onNotice: (text) => emit({ type: "warning", code: "quota_check_retry", message: text }),
    signal: stop,
    trafficProtection: options.trafficProtection,
    connectorClass: options.connectorClass,
  });

  const choice = await chooseTunnel(service, options);
  if (stop.aborted) return;
  const approved = choice.target;
  const beyond = notLocalWarning(approved);
  if (beyond) emit({ type: "warning", code: "target_not_local", message: beyond });

  const lastStopFile = lastStopPath(repo, projectId);
  const lastStop = await readLastStop(lastStopFile);
  const setupStart = Date.now();
  const deadline = setupStart + options.request.timeoutMs;

  if (choice.kind === "existing") {
    // Said as soon as it is chosen (a new tunnel is announced once it exists).
    emit({
      type: "tunnel",
      action: choice.action,
      via: choice.via,
      id: choice.summary.id,
      label: choice.relabel ?? choice.summary.label,
      endpoint: approved.endpoint,
      hostnames: choice.summary.hostnames,
    });
  }
  emit({
    type: "identity",
    project: projectId,
    endpoint_id: endpointId,
    key_path: key.path,
    key_origin: key.origin,
    relay_mode: options.relay.mode,
  });

  // The port (and relay) of the last run, so the edge's cached iroh DNS answer stays valid.
  const { agent: liveAgent, ownAddress, keptPort } = await startOnRememberedPort({
    startAgent: (o) => options.startAgent({ ...o, allowedPeers: options.allowedPeers }),
    secretKey: key.secret,
    relay: options.relay,
    remembered,
    dnsTtlSeconds: IROH_DNS_TTL_SECONDS,
    warn: emit,
  });
  const addressMemory = new AddressMemory(
    repo,
    projectId,
    endpointId,
    (message) => emit({ type: "warning", code: "endpoint_file", message }),
  );
  void addressMemory.update(ownAddress());
  started.agent = liveAgent;
  let loginLost: unknown;
  let wakeRuntime: (() => void) | undefined;
  // Replaced when the tunnel is ready; until then setup itself watches progress.
  let health = new HealthTracker(Date.now(), () => heartbeat.leaseDurationSeconds);
  const heartbeat: Heartbeat = new Heartbeat({
    service,
    address: () => liveAgent.address(),
    onEvent: (event) => {
      if (event.type === "auth_lost") {
        loginLost ??= event.error;
        wakeRuntime?.();
      } else if (event.type === "error") {
        health.heartbeatFailed(event.message, Date.now());
        emit({ type: "warning", code: "heartbeat", message: `heartbeat: ${event.message}` });
      } else if (event.type === "renewed") {
        health.renewed(Date.now());
      }
    },
  });
  liveAgent.onAddressChange(() => {
    heartbeat.nudge();
    void addressMemory.update(ownAddress());
  });

  let enabledId: string | undefined;
  let stopReason: StopReason = "error";
  let exitCode: number = ExitCode.error;
  // Credentials for months: refresh ahead of expiry, and come back after the host slept.
  const keeper = new TokenKeeper({
    tokens: options.client.auth.tokens,
    onLost: (error) => {
      loginLost ??= error;
      wakeRuntime?.();
    },
    onRetry: (error, delayMs) =>
      emit({
        type: "warning",
        code: "token_refresh_retry",
        message: `refreshing the login failed (${(error as Error).message}); retrying in ${
          Math.round(delayMs / 1000)
        }s`,
      }),
  });
  let readyId: string | undefined;
  const recovery = new WakeRecovery({
    emit,
    recoverHeartbeat: () => heartbeat.recover(),
    refreshLogin: () => keeper.nudge(),
    leaseSeconds: () => heartbeat.leaseDurationSeconds,
    tunnelId: () => readyId,
    isEnabled: async (id) => (await service.get(id))?.enabled,
    enable: (id) => service.setEnabled(id, true, approved),
  });
  const wakeDetector = new WakeDetector({
    onWake: (ms) => void recovery.handle(ms),
    thresholdMs: () => wakeThresholdMs(heartbeat.leaseDurationSeconds),
  });
  try {
    emit({ type: "phase", phase: "setup" });
    if (lastStop) {
      const ago = (Date.now() - lastStop.getTime()) / 1000;
      if (ago >= 0 && ago < IROH_DNS_TTL_SECONDS + 5) {
        emit({
          type: "warning",
          code: "restart_within_dns_ttl",
          // On the last run's UDP port the edge's cached answer still holds: nothing to wait out.
          message: keptPort
            ? `A tunnel of this project stopped ${
              Math.round(ago)
            }s ago; this one listens on the same UDP port, so the address Datum's edge cached (iroh DNS, ${IROH_DNS_TTL_SECONDS}s TTL) is still right: no wait expected.`
            : `A tunnel of this project stopped ${
              Math.round(ago)
            }s ago. Datum's edge may keep its old address for up to ${IROH_DNS_TTL_SECONDS}s (iroh DNS TTL), so the public URL can take about ${
              Math.max(1, Math.round(IROH_DNS_TTL_SECONDS + 5 - ago))
            }s more to answer; this is expected, not stuck.`,
        });
      }
    }
    await waitForAddress(liveAgent, options.relay, Math.min(10_000, remainingMs(deadline)), stop);
    if (!liveAgent.address()) {
      emit({
        type: "warning",
        code: "no_address",
        message:
          "the tunnel agent has no relay or address yet; continuing (the heartbeat publishes it when it appears)",
      });
    }
    heartbeat.start();
    keeper.start();
    wakeDetector.start();

    // Create, adopt or resume; then enable. The allowlist is set before the advertisement exists.
    // The agent's allowlist is exactly the target this machine decided on (never the server's).
    let summary: TunnelSummary;
    if (choice.kind === "create") {
      liveAgent.setAllowlist([approved]);
      summary = await service.create(choice.label, choice.endpoint);
      enabledId = summary.id;
      emit({
        type: "tunnel",
        action: "created",
        via: "endpoint",
        id: summary.id,
        label: summary.label,
        endpoint: summary.endpoint,
        hostnames: summary.hostnames,
      });
    } else {
      liveAgent.setAllowlist([approved]);
      const updated = await service.update(choice.summary.id, { label: choice.relabel });
      summary = updated.summary;
      enabledId = summary.id;
      await service.setEnabled(summary.id, true, approved);
    }
    heartbeat.nudge();
    if (stop.aborted) throw new StopRequested();

    const hostname = await awaitChecklist(service, summary.id, {
      emit,
      stop,
      deadline,
      setupStart,
      intervalMs: intervals.progressMs,
      keyPath: key.path,
      loginLost: () => loginLost,
      // Until the first renewal, each poll wakes the heartbeat so a new Connector's Lease is
      // renewed as soon as the operator creates it, not after a back-off.
      nudgeHeartbeat: () => {
        if (!heartbeat.renewed) heartbeat.nudge();
      },
    });

    await verifyConnectivity({
      emit,
      stop,
      deadline,
      setupStart,
      agent: liveAgent,
      origin: approved.endpoint,
      hostname,
      // The local stack names its gateway in the HTTPProxy status (only followed for .localhost).
      gateway: options.gateway ??
        await findStackGateway(hostname, () => service.getProxy(summary.id)),
      intervalMs: intervals.verifyMs,
      timeoutMs: options.request.timeoutMs,
      restartWindowEnds: lastStop
        ? lastStop.getTime() + (IROH_DNS_TTL_SECONDS + 5) * 1000
        : undefined,
      loginLost: () => loginLost,
    });

    const fresh = await service.get(summary.id).catch(() => undefined) ?? summary;
    emit({
      type: "ready",
      id: summary.id,
      label: fresh.label,
      endpoint: approved.endpoint,
      url: publicUrl(hostname),
      hostnames: fresh.hostnames.length > 0 ? fresh.hostnames : [hostname],
      endpoint_id: endpointId,
      elapsed_secs: elapsedSecs(Date.now() - setupStart),
    });
    // From here on a wake from sleep may re-create the advertisement (setup does it before).
    readyId = summary.id;

    health = new HealthTracker(Date.now(), () => heartbeat.leaseDurationSeconds);
    const ending = await watchRuntime({
      health,
      hostname,
      gateway: options.gateway,
      service,
      client: options.client,
      id: summary.id,
      agent: liveAgent,
      emit,
      stop,
      intervals,
      keyPath: key.path,
      onStats: options.onStats,
      loginLost: () => loginLost,
      setWake: (wake) => (wakeRuntime = wake),
    });
    if (ending.reason === "interrupted") {
      stopReason = "interrupted";
      exitCode = ExitCode.ok;
    } else {
      throw ending.error;
    }
  } catch (err) {
    if (err instanceof StopRequested || (stop.aborted && !(err instanceof CliError))) {
      stopReason = "interrupted";
      exitCode = ExitCode.ok;
    } else {
      const cliError = isLoginLost(err) && !(err instanceof CliError && err.code === "LOGIN_LOST")
        ? loginLostError(err)
        : err;
      stopReason = reasonOf(cliError);
      exitCode = cliError instanceof CliError ? cliError.exitCode : ExitCode.error;
      if (stopReason !== "error" || cliError instanceof CliError) {
        const e = cliError instanceof CliError ? cliError : undefined;
        emit({
          type: "error",
          code: e?.code ?? "INTERNAL",
          message: (cliError as Error).message,
          hint: e?.hint,
          exit_code: exitCode,
          retryable: e?.retryable ??
            (exitCode === ExitCode.unavailable || exitCode === ExitCode.tempFail),
        });
      }
      await shutdown();
      throw cliError;
    }
  }
  await shutdown();

  async function shutdown(): Promise<void> {
    let disabled = false;
    if (enabledId && stopReason === "deleted_upstream") {
      // Nothing left to disable; forget the local entry of the deleted tunnel.
      await removeTunnelEntry(repo, enabledId).catch(() => {});
    } else if (enabledId) {
      emit({ type: "phase", phase: "disabling" });
      const giveUp = AbortSignal.any([
        AbortSignal.timeout(15_000),
        ...(options.force ? [options.force] : []),
      ]);
      try {
        await raceAbort(service.setEnabled(enabledId, false), giveUp);
        disabled = true;
        emit({ type: "phase", phase: "disabled" });
      } catch (err) {
        emit({
          type: "warning",
          code: "disable_failed",
          message: `could not disable tunnel ${enabledId}: ${(err as Error).message}`,
        });
      }
    }
    // A cycle stuck in a slow request must not hold the exit for long.
    const brief = () =>
      AbortSignal.any([AbortSignal.timeout(5_000), ...(options.force ? [options.force] : [])]);
    wakeDetector.stop();
    await raceAbort(keeper.stop(), brief()).catch(() => {});
    await raceAbort(heartbeat.stop(), brief()).catch(() => {});
    await raceAbort(liveAgent.close(), brief()).catch(() => {});
    await addressMemory.flush();
    await writePrivateFile(lastStopFile, new Date().toISOString() + "\n").catch(() => {});
    emit({ type: "stopped", reason: stopReason, exit_code: exitCode, disabled });
  }
}

function reasonOf(err: unknown): StopReason {
  const code = err instanceof CliError ? err.code : "";
  if (code === "TUNNEL_DNS_OWNED_ELSEWHERE") return "terminal_failure";
  if (code === "TUNNEL_DELETED") return "deleted_upstream";
  if (code === "LOGIN_LOST") return "login_lost";
  if (code === "TUNNEL_SETUP_TIMEOUT") return "timeout";
  return "error";
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return await promise;
  if (signal.aborted) throw new Error("gave up");
  return await new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("gave up waiting"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

async function waitForAddress(
  agent: TunnelAgent,
  relay: RelaySettings,
  budgetMs: number,
  stop: AbortSignal,
): Promise<void> {
  const ready = () => {
    const addr = agent.address();
    if (!addr) return false;
    return relay.mode === "disabled" ? addr.direct.length > 0 : !!addr.relay;
  };
  const until = Date.now() + budgetMs;
  while (!ready() && Date.now() < until && !stop.aborted) {
    await abortableSleep(100, stop);
  }
}

function tunnelDeleted(id: string): CliError {
  return new CliError("TUNNEL_DELETED", `tunnel ${id} was deleted on the server`, {
    hint: "Start a new one with 'datumctl tunnel listen --endpoint HOST:PORT'.",
    exitCode: ExitCode.rejected,
  });
}

interface ChecklistContext {
  emit: (event: TunnelEvent) => void;
  stop: AbortSignal;
  deadline: number;
  setupStart: number;
  intervalMs: number;
  keyPath: string;
  loginLost: () => unknown;
  nudgeHeartbeat?: () => void;
}

function setupTimeout(what: string, summary: string[] = []): CliError {
  return new CliError(
    "TUNNEL_SETUP_TIMEOUT",
    `the tunnel was not ready within --timeout: ${what}`,
    {
      hint: summary.length > 0
        ? summary.join("; ")
        : "Run again with a longer --timeout, or check the resources with 'datumctl describe'.",
      exitCode: ExitCode.tempFail,
      retryable: true,
    },
  );
}

/** Polls the HTTPProxy and its Connector until every step is ready; returns the hostname. */
async function awaitChecklist(
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

interface VerifyContext {
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

function tunnelled(before: AgentStats, after: AgentStats): boolean {
  return after.streamsTotal > before.streamsTotal &&
    after.originUnreachable === before.originUnreachable &&
    after.streamsDenied === before.streamsDenied;
}

/**
 * Probes the origin and the public URL every 10 s until both answer below 500 — and the public
 * request provably crossed the tunnel to this agent (its stream counter moved, no origin failure
 * or denial): an edge answering 404 by itself proves nothing.
 */
async function verifyConnectivity(ctx: VerifyContext): Promise<void> {
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

interface RuntimeContext {
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

type RuntimeEnding = { reason: "interrupted" } | { reason: "failed"; error: CliError };

/**
 * After ready: statistics every second (counters and path changes), and every 10 s the tunnel,
 * its Connector and the login. Ends on Ctrl-C, or with the error that stopped it.
 */
async function watchRuntime(ctx: RuntimeContext): Promise<RuntimeEnding> {
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
