/**
 * The events `tunnel listen` produces, one object each. The human renderer turns them into the
 * checklist on stderr; `-o json` writes each as one JSON line on stdout, following the versioned
 * schema in `docs/tunnel-events.md` / `docs/tunnel-events.schema.json`.
 *
 * Every line carries a version tag. Field names are snake_case and stable: adding
 * an optional field keeps the version; renaming, removing or changing the meaning of one bumps it.
 */

/** The schema id carried by every event line as `schema`. */
export const TUNNEL_EVENTS_SCHEMA = "datumctl.tunnel.events/v1";

/** Why the listener stopped. */
export type StopReason =
  | "interrupted"
  | "terminal_failure"
  | "deleted_upstream"
  | "login_lost"
  | "timeout"
  | "error";

/** Every event `tunnel listen` emits (without the `schema`/`time` stamp). */
export type TunnelEvent =
  | {
    type: "identity";
    project: string;
    endpoint_id: string;
    key_path: string;
    /** `existing`, `migrated` (the legacy flat key was moved here) or `created`. */
    key_origin: "existing" | "migrated" | "created";
    relay_mode: "datum" | "custom" | "disabled";
  }
  | {
    type: "phase";
    /** `setup` (creating/enabling, then the checklist), `verify`, `disabling`, `disabled`. */
    phase: "setup" | "verify" | "disabling" | "disabled";
  }
  | {
    type: "tunnel";
    /** `created`, `adopted` (an existing tunnel with the same endpoint) or `resumed` (by id). */
    action: "created" | "adopted" | "resumed";
    /** How it was chosen: `--endpoint`, `--id`, the picker, or the only candidate. */
    via: "endpoint" | "id" | "picker" | "only_candidate";
    id: string;
    label: string;
    endpoint: string;
    hostnames: string[];
  }
  | {
    type: "step";
    step: string;
    label: string;
    status: "ready" | "pending" | "unknown";
    resource: string | null;
    elapsed_secs: number;
    reason?: string;
    message?: string;
  }
  | {
    type: "verify";
    /** `origin` (the local service) or `public` (the public URL through the edge). */
    side: "origin" | "public";
    url: string;
    reachable: boolean;
    elapsed_secs: number;
    http_status?: number;
    error?: string;
  }
  | {
    type: "ready";
    id: string;
    label: string;
    endpoint: string;
    url: string;
    hostnames: string[];
    endpoint_id: string;
    elapsed_secs: number;
  }
  | {
    type: "stats";
    requests_total: number;
    requests_active: number;
    requests_denied: number;
    origin_unreachable: number;
    bytes_to_origin: number;
    bytes_from_origin: number;
    /** Per peer (endpoint id): requests denied (403) and connections refused (`--allow-peer`). */
    denied_by_peer?: { peer: string; requests_denied: number; connections_refused: number }[];
  }
  | {
    /** One request served through the tunnel (after ready; drained once a second). */
    type: "request";
    method: string;
    /** Path and query; `host:port` for `CONNECT`. */
    path: string;
    /** What the visitor got: the origin's status, or 403/502 from the agent. */
    status: number;
    duration_ms: number;
    /** The endpoint id of the iroh peer that sent it (normally Datum's edge). */
    peer: string;
  }
  | {
    type: "path";
    peer: string;
    /** `direct`, `relay`, or `none` when the connection closed. */
    path: "direct" | "relay" | "none";
    remote_addr?: string;
    rtt_ms?: number;
  }
  | {
    type: "warning";
    code: string;
    message: string;
    step?: string;
    resource?: string;
  }
  | {
    type: "error";
    code: string;
    message: string;
    hint?: string;
    exit_code: number;
    retryable: boolean;
  }
  | {
    type: "stopped";
    reason: StopReason;
    exit_code: number;
    /** Whether the tunnel was disabled on the way out (its advertisement deleted). */
    disabled: boolean;
  };

/** An event as written: the schema id and an RFC 3339 timestamp first. */
export type StampedTunnelEvent = TunnelEvent & { schema: string; time: string };

/** Adds the schema id and the time to an event. */
export function stampEvent(event: TunnelEvent, now: Date = new Date()): StampedTunnelEvent {
  return { schema: TUNNEL_EVENTS_SCHEMA, time: now.toISOString(), ...event };
}

/** Seconds with one decimal, as every `elapsed_secs` carries them. */
export function elapsedSecs(ms: number): number {
  return Math.round(ms / 100) / 10;
}
