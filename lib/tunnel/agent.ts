/**
 * What `tunnel listen` needs from the native engine's agent, as types only: engine.ts returns
 * exactly this interface, and the lifecycle imports it from here so it never loads the engine
 * itself (the engine is loaded lazily, only after the picker, so its logs cannot garble a prompt).
 */
import type { AgentAddress } from "./details.ts";
import type { ApprovedTarget } from "./targets.ts";
import type { RelaySettings } from "./relays.ts";
import type { RequestCapture } from "./inspector/capture.ts";

/** How traffic to one remote peer (normally the gateway) travels right now. */
export interface PeerStats {
  endpointId: string;
  path: "direct" | "relay" | "none";
  /** The selected path's address: `ip:port` or a relay URL (absent without a path). */
  remoteAddr?: string;
  /** Round-trip time on the selected path, in milliseconds (absent without a path). */
  rttMs?: number;
  /** Open connections to this peer (the engine always reports it). */
  connections?: number;
}

/** What the agent turned away from one peer since it started. */
export interface PeerDenials {
  endpointId: string;
  connectionsRefused: number;
  requestsDenied: number;
}

/** The agent's counters since it started. */
export interface AgentStats {
  /** Payload bytes from visitors to local origins. */
  bytesToOrigin: number;
  /** Payload bytes (response heads included) from local origins to visitors. */
  bytesFromOrigin: number;
  streamsTotal: number;
  streamsActive: number;
  /** Streams answered 403 (target not on the allowlist). */
  streamsDenied: number;
  /** Streams answered 502 (origin unreachable). */
  originUnreachable: number;
  peers: PeerStats[];
  /** Per peer: connections refused (not an allowed peer) and requests denied (403). */
  denials?: PeerDenials[];
}

/** One request the agent served: the visitor's method and path, and the status it got. */
export interface ServedRequest {
  method: string;
  /** Path and query; `host:port` for `CONNECT`. */
  path: string;
  /** The origin's status, or 403 (not allowed) / 502 (origin unreachable) from the agent. */
  status: number;
  /** From the request head to the response head. */
  durationMs: number;
  /** The endpoint id of the peer that sent it (64 lowercase hex): normally the edge. */
  peer: string;
}

/** A running agent serving `iroh-http-proxy/1` for the allowlisted targets. */
export interface TunnelAgent {
  /** 64 lowercase hex. */
  readonly endpointId: string;
  /** The current home relay and direct addresses (undefined before there are any). */
  address(): AgentAddress | undefined;
  /** Called now and whenever the address changes (it reads the latest address itself). */
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
