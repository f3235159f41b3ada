/**
 * The engine's request capture as TypeScript sees it (engine/src/capture.rs): summaries of the
 * requests an agent served, one request with its headers and the captured prefix of each body,
 * and a replay that the engine sends to the local origin itself.
 *
 * Types only: importing this file loads nothing.
 */

/** One captured request without headers or bodies. */
export interface CapturedSummary {
  id: number;
  /** The change that last touched it; pass the largest seen to {@link RequestCapture.changes}. */
  seq: number;
  kind: "http" | "websocket" | "connect";
  /** When its head arrived (milliseconds since the Unix epoch). */
  timeMs: number;
  /** The remote peer's endpoint id (the edge), or `replay`. */
  peer: string;
  method: string;
  /** Path and query; `host:port` for CONNECT. */
  path: string;
  /** Absent while the origin has not answered. */
  status?: number | null;
  /** Request head in to response head out. */
  durationMs?: number | null;
  /** Request head in to the end of the exchange. */
  totalMs?: number | null;
  requestBytes: number;
  responseBytes: number;
  /** Only the first chunk of each body was kept (SSE, chunked, WebSocket, CONNECT). */
  streamed: boolean;
  done: boolean;
  /** The request this entry replayed. */
  replayOf?: number | null;
  error?: string | null;
  contentType?: string | null;
}

/** A header as captured; a credential's value reads `[masked]` unless secrets are shown. */
export interface CapturedHeader {
  name: string;
  value: string;
  masked: boolean;
}

/** One captured request with headers and body prefixes. */
export interface CapturedRequest {
  summary: CapturedSummary;
  /** `host:port` the agent dialed. */
  target?: string | null;
  requestHeaders: CapturedHeader[];
  responseHeaders: CapturedHeader[];
  requestBody: Uint8Array;
  requestBodyTruncated: boolean;
  responseBody: Uint8Array;
  responseBodyTruncated: boolean;
}

/** What a replay changes; absent fields keep the captured request's. */
export interface ReplayEdits {
  method?: string;
  path?: string;
  /** Replaces every header; a credential sent back as `[masked]` keeps its captured value. */
  headers?: { name: string; value: string }[];
  body?: Uint8Array;
}

/** How the capture behaves. */
export interface CaptureSettings {
  /** Bytes kept of each body (0: headers only). */
  bodyLimit: number;
  /** Requests kept. */
  capacity: number;
  showSecrets: boolean;
}

/** The agent's capture (`Agent.capture()` of the engine). */
export interface RequestCapture {
  readonly enabled: boolean;
  enable(settings: CaptureSettings): void;
  /** Requests changed after `since` (0: all kept), oldest change first. */
  changes(since: number): { requests: CapturedSummary[]; seq: number; keptFrom: number };
  get(id: number): CapturedRequest | null;
  /** Resolves with the id of the entry that records the replay. */
  replay(id: number, edits?: ReplayEdits): Promise<number>;
}

/** The value a masked header shows. */
export const MASK = "[masked]";
