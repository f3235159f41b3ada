/**
 * One `tunnel listen` from start to stop, in phases, each in its own file: choose (which
 * tunnel, and the target this machine allows), lock, start (the engine, heartbeat, token keeper
 * and wake detector), setup (create/adopt/resume and enable), checklist, verify, ready, serve
 * (the runtime watch) and stop (disable and clean up). The phases share one explicit
 * {@link SessionState}; none of them prints: every line the user sees is an emitted event.
 */
import { CliError } from "../../core/errors.ts";
import { readTextIfExists } from "../../store/files.ts";
import type { TunnelAgent } from "../agent.ts";
import { buildConnectionDetails } from "../details.ts";
import { elapsedSecs, type TunnelEvent } from "../events.ts";
import { HealthTracker } from "../health.ts";
import { Heartbeat, isLoginLost } from "../heartbeat.ts";
import { endpointIdFromSecret, listenKeyPath, loadOrCreateListenKey } from "../keys.ts";
import { abortableSleep } from "../quota.ts";
import type { RelaySettings } from "../relays.ts";
import { AddressMemory, readRememberedEndpoint, startOnRememberedPort } from "../stable-address.ts";
import { findStackGateway } from "../stack-gateway.ts";
import { notLocalWarning } from "../targets.ts";
import { TokenKeeper } from "../token-keeper.ts";
import { TunnelService, type TunnelSummary } from "../tunnel-api.ts";
import { publicUrl } from "../verify.ts";
import { WakeDetector, WakeRecovery, wakeThresholdMs } from "../wake.ts";
import { awaitChecklist } from "./checklist.ts";
import { chooseTunnel, type TunnelChoice } from "./choose.ts";
import { endingOf, errorEvent, INTERRUPTED, type SessionEnding } from "./ending.ts";
import { loginLostError, remainingMs, StopRequested } from "./errors.ts";
import { acquireListenLock } from "./lock.ts";
import {
  DEFAULT_INTERVALS,
  IROH_DNS_TTL_SECONDS,
  type ListenIntervals,
  type ListenOptions,
} from "./options.ts";
import { watchRuntime } from "./serve.ts";
import { type RunningParts, stopSession } from "./stop.ts";
import { verifyConnectivity } from "./verify.ts";

/** `<repo>/projects/<pid>/last_stop`: when a listener of this project last stopped (RFC 3339). */
export function lastStopPath(repo: string, projectId: string): string {
  return listenKeyPath(repo, projectId).replace(/listen_key$/, "last_stop");
}

/**
 * What the phases share. Each field is written by one phase (or by a callback of a running
 * part) and read by later phases; nothing else is shared between them.
 */
export interface SessionState {
  /** The running agent, once the engine started (after the choice): the service reads it. */
  agent?: TunnelAgent;
  /** The first lost-login error the heartbeat or the token keeper saw. */
  loginLost?: unknown;
  /** Ends the runtime watch at once (set while it runs). */
  endRuntime?: () => void;
  /** Replaced when the tunnel is ready; until then setup itself watches progress. */
  health: HealthTracker;
  /** The tunnel this session enabled: disabled on the way out. */
  enabledId?: string;
  /** The tunnel once ready: from then on a wake from sleep may re-create its advertisement. */
  readyId?: string;
}

/** This machine's iroh identity for the project, and what the last run left behind. */
interface Identity {
  key: Awaited<ReturnType<typeof loadOrCreateListenKey>>;
  endpointId: string;
  remembered: Awaited<ReturnType<typeof readRememberedEndpoint>>;
  lastStop?: Date;
}

/** The setup budget: when it started and when it runs out. */
interface Budget {
  setupStart: number;
  deadline: number;
}

/**
 * `tunnel listen` as phases. {@link TunnelSession.run} resolves after a clean stop
 * (Ctrl-C/SIGTERM) and throws the `CliError` of every other ending, after disabling the tunnel.
 */
export class TunnelSession {
  readonly #options: ListenOptions;
  readonly #intervals: ListenIntervals;

  constructor(options: ListenOptions) {
    this.#options = options;
    this.#intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
  }

  /** Rendering must never break the tunnel. */
  readonly #emit = (event: TunnelEvent): void => {
    try {
      this.#options.emit(event);
    } catch { /* a broken sink is not the tunnel's problem */ }
  };

  /** Lock, then serve until stopped. */
  async run(): Promise<void> {
    const { repo, projectId, stop } = this.#options;
    const lock = await acquireListenLock(repo, projectId, stop, (holder) =>
      this.#options.emit({
        type: "warning",
        code: "listener_queued",
        message: `Another 'datumctl tunnel listen' is serving project ${projectId} on this machine${
          holder ? ` (pid ${holder})` : ""
        }; waiting for it to stop (tunnels of a project share one iroh identity, use --name for a separate one)...`,
      }));
    if (!lock) return;
    try {
      await this.#runLocked();
    } finally {
      try {
        await lock.unlock();
      } catch { /* closing releases it anyway */ }
      lock.close();
    }
  }

  async #runLocked(): Promise<void> {
    const options = this.#options;
    const identity = await this.#identity();
    const state: SessionState = {
      health: new HealthTracker(Date.now(), () => leaseSeconds()),
    };
    const service = this.#service(identity, state);

    // Choose: nothing changes on the server, and the engine is not started yet.
    const choice = await chooseTunnel(service, options);
    if (options.stop.aborted) return;
    const beyond = notLocalWarning(choice.target);
    if (beyond) this.#emit({ type: "warning", code: "target_not_local", message: beyond });
    const setupStart = Date.now();
    const budget = { setupStart, deadline: setupStart + options.request.timeoutMs };
    this.#announce(choice, identity);

    const { parts, keptPort } = await this.#start(identity, service, state, choice);
    const leaseSeconds = () => parts.heartbeat.leaseDurationSeconds;

    let ending: SessionEnding = INTERRUPTED;
    let failure: { error: unknown } | undefined;
    try {
      const runtime = await this.#serve(identity, service, state, choice, parts, budget, keptPort);
      if (runtime.reason === "failed") throw runtime.error;
    } catch (err) {
      if (!(err instanceof StopRequested || (options.stop.aborted && !(err instanceof CliError)))) {
        const error = isLoginLost(err) && !(err instanceof CliError && err.code === "LOGIN_LOST")
          ? loginLostError(err)
          : err;
        ending = endingOf(error);
        if (error instanceof CliError) this.#emit(errorEvent(error));
        failure = { error };
      }
    }
    await stopSession(
      parts,
      {
        service,
        repo: options.repo,
        lastStopFile: lastStopPath(options.repo, options.projectId),
        emit: this.#emit,
        force: options.force,
      },
      state.enabledId,
      ending,
    );
    if (failure) throw failure.error;
  }

  /** The project's key (created on first use) and what the last run remembered. */
  async #identity(): Promise<Identity> {
    const { repo, projectId } = this.#options;
    const key = await loadOrCreateListenKey(repo, projectId);
    const endpointId = await endpointIdFromSecret(key.secret);
    // Read before anything changes on the server: a file we cannot read stops us here (65).
    const remembered = await readRememberedEndpoint(repo, projectId);
    const lastStop = await readLastStop(lastStopPath(repo, projectId));
    return { key, endpointId, remembered, lastStop };
  }

  /** The project's tunnels as this machine's Connector; its address comes from the agent. */
  #service(identity: Identity, state: SessionState): TunnelService {
    const options = this.#options;
    return new TunnelService({
      client: options.client,
      projectId: options.projectId,
      endpointId: identity.endpointId,
      repo: options.repo,
      connectionDetails: () =>
        state.agent
          ? buildConnectionDetails(identity.endpointId, state.agent.address() ?? { direct: [] })
          : undefined,
      onNotice: (text) => this.#emit({ type: "warning", code: "quota_check_retry", message: text }),
      signal: options.stop,
      trafficProtection: options.trafficProtection,
      connectorClass: options.connectorClass,
    });
  }

  /** An existing tunnel is said as soon as it is chosen (a new one once it exists); then who we are. */
  #announce(choice: TunnelChoice, identity: Identity): void {
    const options = this.#options;
    if (choice.kind === "existing") {
      this.#emit({
        type: "tunnel",
        action: choice.action,
        via: choice.via,
        id: choice.summary.id,
        label: choice.relabel ?? choice.summary.label,
        endpoint: choice.target.endpoint,
        hostnames: choice.summary.hostnames,
      });
    }
    this.#emit({
      type: "identity",
      project: options.projectId,
      endpoint_id: identity.endpointId,
      key_path: identity.key.path,
      key_origin: identity.key.origin,
      relay_mode: options.relay.mode,
    });
  }

  /** Starts the engine's agent, the heartbeat, the token keeper and the wake detector (not yet run). */
  async #start(
    identity: Identity,
    service: TunnelService,
    state: SessionState,
    choice: TunnelChoice,
  ): Promise<{ parts: RunningParts; keptPort: boolean }> {
    const options = this.#options;
    const emit = this.#emit;
    // The port (and relay) of the last run, so the edge's cached iroh DNS answer stays valid.
    const { agent, ownAddress, keptPort } = await startOnRememberedPort({
      startAgent: (o) => options.startAgent({ ...o, allowedPeers: options.allowedPeers }),
      secretKey: identity.key.secret,
      relay: options.relay,
      remembered: identity.remembered,
      dnsTtlSeconds: IROH_DNS_TTL_SECONDS,
      warn: emit,
    });
    const addressMemory = new AddressMemory(
      options.repo,
      options.projectId,
      identity.endpointId,
      (message) => emit({ type: "warning", code: "endpoint_file", message }),
    );
    void addressMemory.update(ownAddress());
    state.agent = agent;
    const loseLogin = (error: unknown) => {
      state.loginLost ??= error;
      state.endRuntime?.();
    };
    const heartbeat: Heartbeat = new Heartbeat({
      service,
      address: () => agent.address(),
      onEvent: (event) => {
        if (event.type === "auth_lost") {
          loseLogin(event.error);
        } else if (event.type === "error") {
          state.health.heartbeatFailed(event.message, Date.now());
          emit({ type: "warning", code: "heartbeat", message: `heartbeat: ${event.message}` });
        } else if (event.type === "renewed") {
          state.health.renewed(Date.now());
        }
      },
    });
    agent.onAddressChange(() => {
      heartbeat.nudge();
      void addressMemory.update(ownAddress());
    });
    // Credentials for months: refresh ahead of expiry, and come back after the host slept.
    const keeper = new TokenKeeper({
      tokens: options.client.auth.tokens,
      onLost: loseLogin,
      onRetry: (error, delayMs) =>
        emit({
          type: "warning",
          code: "token_refresh_retry",
          message: `refreshing the login failed (${(error as Error).message}); retrying in ${
            Math.round(delayMs / 1000)
          }s`,
        }),
    });
    const recovery = new WakeRecovery({
      emit,
      recoverHeartbeat: () => heartbeat.recover(),
      refreshLogin: () => keeper.nudge(),
      leaseSeconds: () => heartbeat.leaseDurationSeconds,
      tunnelId: () => state.readyId,
      isEnabled: async (id) => (await service.get(id))?.enabled,
      enable: (id) => service.setEnabled(id, true, choice.target),
    });
    const wakeDetector = new WakeDetector({
      onWake: (ms) => void recovery.handle(ms),
      thresholdMs: () => wakeThresholdMs(heartbeat.leaseDurationSeconds),
    });
    return { parts: { agent, heartbeat, keeper, wakeDetector, addressMemory }, keptPort };
  }

  /** Setup, checklist, verify and ready; then the runtime watch until it ends. */
  async #serve(
    identity: Identity,
    service: TunnelService,
    state: SessionState,
    choice: TunnelChoice,
    parts: RunningParts,
    budget: Budget,
    keptPort: boolean,
  ): Promise<Awaited<ReturnType<typeof watchRuntime>>> {
    const options = this.#options;
    const emit = this.#emit;
    const { stop } = options;
    const { agent, heartbeat } = parts;
    const approved = choice.target;
    const { lastStop } = identity;
    emit({ type: "phase", phase: "setup" });
    if (lastStop) {
      const warning = restartWarning(lastStop, keptPort);
      if (warning) emit(warning);
    }
    await waitForAddress(
      agent,
      options.relay,
      Math.min(10_000, remainingMs(budget.deadline)),
      stop,
    );
    if (!agent.address()) {
      emit({
        type: "warning",
        code: "no_address",
        message:
          "the tunnel agent has no relay or address yet; continuing (the heartbeat publishes it when it appears)",
      });
    }
    heartbeat.start();
    parts.keeper.start();
    parts.wakeDetector.start();

    const summary = await this.#enable(service, state, choice, agent);
    heartbeat.nudge();
    if (stop.aborted) throw new StopRequested();

    const hostname = await awaitChecklist(service, summary.id, {
      emit,
      stop,
      deadline: budget.deadline,
      setupStart: budget.setupStart,
      intervalMs: this.#intervals.progressMs,
      keyPath: identity.key.path,
      loginLost: () => state.loginLost,
      // Until the first renewal, each poll wakes the heartbeat so a new Connector's Lease is
      // renewed as soon as the operator creates it, not after a back-off.
      nudgeHeartbeat: () => {
        if (!heartbeat.renewed) heartbeat.nudge();
      },
    });

    await verifyConnectivity({
      emit,
      stop,
      deadline: budget.deadline,
      setupStart: budget.setupStart,
      agent,
      origin: approved.endpoint,
      hostname,
      // The local stack names its gateway in the HTTPProxy status (only followed for .localhost).
      gateway: options.gateway ??
        await findStackGateway(hostname, () => service.getProxy(summary.id)),
      intervalMs: this.#intervals.verifyMs,
      timeoutMs: options.request.timeoutMs,
      restartWindowEnds: lastStop
        ? lastStop.getTime() + (IROH_DNS_TTL_SECONDS + 5) * 1000
        : undefined,
      loginLost: () => state.loginLost,
    });

    const fresh = await service.get(summary.id).catch(() => undefined) ?? summary;
    emit({
      type: "ready",
      id: summary.id,
      label: fresh.label,
      endpoint: approved.endpoint,
      url: publicUrl(hostname),
      hostnames: fresh.hostnames.length > 0 ? fresh.hostnames : [hostname],
      endpoint_id: identity.endpointId,
      elapsed_secs: elapsedSecs(Date.now() - budget.setupStart),
    });
    state.readyId = summary.id;

    state.health = new HealthTracker(Date.now(), () => heartbeat.leaseDurationSeconds);
    return await watchRuntime({
      health: state.health,
      hostname,
      gateway: options.gateway,
      service,
      client: options.client,
      id: summary.id,
      agent,
      emit,
      stop,
      intervals: this.#intervals,
      keyPath: identity.key.path,
      onStats: options.onStats,
      loginLost: () => state.loginLost,
      setWake: (wake) => (state.endRuntime = wake),
    });
  }

  /**
   * Create, adopt or resume; then enable. The allowlist is set before the advertisement exists,
   * and is exactly the target this machine decided on (never the server's).
   */
  async #enable(
    service: TunnelService,
    state: SessionState,
    choice: TunnelChoice,
    agent: TunnelAgent,
  ): Promise<TunnelSummary> {
    agent.setAllowlist([choice.target]);
    if (choice.kind === "create") {
      const summary = await service.create(choice.label, choice.endpoint);
      state.enabledId = summary.id;
      this.#emit({
        type: "tunnel",
        action: "created",
        via: "endpoint",
        id: summary.id,
        label: summary.label,
        endpoint: summary.endpoint,
        hostnames: summary.hostnames,
      });
      return summary;
    }
    const { summary } = await service.update(choice.summary.id, { label: choice.relabel });
    state.enabledId = summary.id;
    await service.setEnabled(summary.id, true, choice.target);
    return summary;
  }
}

/** A restart within the iroh DNS TTL of the last stop: say whether the edge's answer still holds. */
function restartWarning(lastStop: Date, keptPort: boolean): TunnelEvent | undefined {
  const ago = (Date.now() - lastStop.getTime()) / 1000;
  if (!(ago >= 0 && ago < IROH_DNS_TTL_SECONDS + 5)) return undefined;
  return {
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
  };
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
