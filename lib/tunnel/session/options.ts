/**
 * What a tunnel session is given: the user's request, the project's client, the callbacks for
 * prompts and events, and the poll cadences (tests shorten them).
 */
import type { ApiClient } from "../../api/client.ts";
import type { AgentStats, StartAgent } from "../agent.ts";
import type { TunnelEvent } from "../events.ts";
import type { RelaySettings } from "../relays.ts";
import type { TunnelSummary } from "../tunnel-api.ts";

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

/** Everything a tunnel session (`runListen`) needs. */
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

/** The cadences of a real run. */
export const DEFAULT_INTERVALS: ListenIntervals = {
  progressMs: 750,
  verifyMs: 10_000,
  watchMs: 10_000,
  statsMs: 1_000,
  healthMs: 3_000,
};

/** The iroh DNS TTL the operator publishes by default; a restart within it waits it out. */
export const IROH_DNS_TTL_SECONDS = 30;
