/**
 * What `tunnel listen` needs from the native engine's agent, kept as a small interface so the
 * lifecycle does not depend on how the engine is loaded (the engine is loaded lazily, only after
 * the picker, so its logs can never garble a prompt).
 *
 * Exports {@link TunnelAgent}, {@link AgentStats}, {@link PeerStats} and {@link StartAgent}.
 */
import type { AgentAddress } from "./details.ts";
import type { ApprovedTarget } from "./targets.ts";
import type { RelaySettings } from "./relays.ts";
import type { AgentStats as EngineAgentStats, ServedRequest } from "./engine.ts";
import type { RequestCapture } from "./inspector/capture.ts";

/** How traffic reaches the agent from one remote peer (the gateway). */
export interface PeerStats {
  endpointId: string;
  path: "direct" | "relay" | "none";
  remoteAddr?: string;
  rttMs?: number;
}

/**
 * The agent's counters since it started: the engine's, with peers in the form above. Derived
 * from the engine's type (a type-only import: it loads nothing) so the two cannot drift.
 */
export type AgentStats = Omit<EngineAgentStats, "peers"> & { peers: PeerStats[] };

/** A running agent serving `iroh-http-proxy/1` for the allowlisted targets. */
export interface TunnelAgent {
  /** 64 lowercase hex. */
  readonly endpointId: string;
  /** The current home relay and direct addresses (undefined before there are any). */
  address(): AgentAddress | undefined;
  /** Called whenever the address changes. */
  onAddressChange(callback: () => void): void;
  /**
   * Replaces the set of `host:port` targets the agent forwards to: only targets this machine
   * decided on (see targets.ts), never the server's backend as such.
   */
  setAllowlist(targets: ApprovedTarget[]): void;
  stats(): AgentStats;
  /** The requests served since the last call (and how many were dropped for lack of room). */
  drainRequests(): { requests: ServedRequest[]; dropped: number };
  /** The request inspector's capture (off until enabled); absent when the agent has none. */
  capture?(): RequestCapture;
  close(): Promise<void>;
}

/** Starts an agent with a 32-byte secret key and the relay settings. */
export type StartAgent = (options: {
  secretKey: Uint8Array;
  relay: RelaySettings;
  /** Bind all interfaces on this UDP port (when `relay.bindAddr` is unset); default random. */
  udpPort?: number;
  /** Endpoint ids of the only peers served (`--allow-peer`); empty or unset: every peer. */
  allowedPeers?: string[];
}) => Promise<TunnelAgent>;
