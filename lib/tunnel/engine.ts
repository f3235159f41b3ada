/**
 * The tunnel engine, loaded on first use: a native Node-API module (engine/, Rust on iroh and
 * iroh-proxy-utils) that carries every tunnel byte, so no payload passes through JavaScript.
 *
 * Importing this file costs nothing; the module is opened by the first call to
 * {@link startAgent}, {@link startGateway}, {@link endpointIdFromSecretKey} or
 * {@link loadEngine}. It is looked up at `$DATUMCTL_ENGINE`, else at
 * `engine/dist/datumctl_engine.<os>-<arch>.node` beside this checkout (or inside a compiled
 * binary). A platform without a build gets one `CliError` naming the platform.
 *
 * Exports the typed API: {@link Agent} (the user's side), {@link Gateway} (a stand-in for
 * Datum's edge, for the local stack and tests), their option and statistics types, and
 * {@link enginePlatform}/{@link engineFileName} for build scripts.
 */
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { CliError, ExitCode } from "../core/errors.ts";
import type { RequestCapture } from "./inspector/capture.ts";

/** Relays to use: Datum's (default), none (loopback or LAN only), or the given URLs. */
export type RelaySetting = "datum" | "disabled" | string[];

/** Options for {@link startAgent}. */
export interface AgentOptions {
  /** The 32-byte secret key; its public key is the endpoint id. */
  secretKey: Uint8Array;
  /** Default `"datum"`: `https://iroh-relay.us-{east,west}-1.datumconnect.net`. */
  relays?: RelaySetting;
  /** `ip:port` for the UDP socket (e.g. `127.0.0.1:0`); default all interfaces, random port. */
  bindAddr?: string;
  /** Without `bindAddr`: all interfaces (IPv4, and IPv6 when possible) on this UDP port. */
  udpPort?: number;
  /**
   * Endpoint ids (64 hex) of the only peers served; every other peer is refused when it
   * connects, before any request is read. Unset or empty: every peer is served.
   */
  allowedPeers?: string[];
}

/** Where an agent can be reached, as its Connector publishes it. */
export interface EngineAddress {
  /** 64 lowercase hex characters. */
  endpointId: string;
  /** Home relay URL, or null while none is connected (or relays are disabled). */
  homeRelay: string | null;
  /** Direct socket addresses (`ip:port`, IPv6 bracketed), sorted. */
  directAddresses: string[];
}

/** One local service the agent may reach. Loopback spellings are one host on both sides. */
export interface AllowlistEntry {
  host: string;
  port: number;
  enabled: boolean;
}

/** How traffic to one remote peer (normally the gateway) travels right now. */
export interface PeerStats {
  endpointId: string;
  path: "direct" | "relay" | "none";
  /** The selected path's address: `ip:port` or a relay URL. */
  remoteAddr: string | null;
  /** Round-trip time on the selected path, in milliseconds. */
  rttMs: number | null;
  connections: number;
}

/** Totals since the agent started. */
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

/** What the agent turned away from one peer since it started. */
export interface PeerDenials {
  endpointId: string;
  connectionsRefused: number;
  requestsDenied: number;
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

/** A running agent: serves `iroh-http-proxy/1` to the enabled allowlist entries. */
export interface Agent {
  /** 64 lowercase hex characters. */
  readonly endpointId: string;
  /** The current address. */
  address(): EngineAddress;
  /** Calls `listener` now and on every change until {@link Agent.close}; never keeps the process alive. */
  onAddressChange(listener: (address: EngineAddress) => void): void;
  /** Replaces the allowlist (starts empty: everything is 403). */
  setAllowlist(entries: AllowlistEntry[]): void;
  stats(): AgentStats;
  /** The requests served since the last call, and how many were dropped for lack of room. */
  drainRequests(): { requests: ServedRequest[]; dropped: number };
  /** The request inspector's capture (off until enabled). */
  capture(): RequestCapture;
  /** Resolves true once a relay connection is up, false after `timeoutMs`. */
  waitOnline(timeoutMs: number): Promise<boolean>;
  /** Stops serving; open streams are cut. */
  close(): Promise<void>;
}

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  /** `ip:port` for the HTTP listener; default `127.0.0.1:0`. */
  listen?: string;
  /** Default `"disabled"`: agents are dialed at their direct addresses only. */
  relays?: RelaySetting;
  /** `ip:port` for the gateway's UDP socket; default `127.0.0.1:0` without relays. */
  bindAddr?: string;
  /** Dial timeout before a visitor gets `503 Tunnel not online`; default 10 000. */
  connectTimeoutMs?: number;
  /** How long an idle agent connection stays open; default 5 000. */
  idleTimeoutMs?: number;
  /** The gateway's 32-byte secret key (a stable identity); default a fresh one. */
  secretKey?: Uint8Array;
}

/** One public hostname served through an agent. */
export interface GatewayRoute {
  /** Matched against the request's `Host` (case-insensitive, port ignored). */
  hostname: string;
  endpointId: string;
  relayUrl?: string | null;
  /** `ip:port` addresses the agent listens on. */
  directAddresses: string[];
  /** The target asked of the agent (`CONNECT`/absolute-form authority). */
  targetHost: string;
  targetPort: number;
  /** False: answer `503 Tunnel not online` without dialing. */
  online: boolean;
}

/** A running gateway: routes HTTP by `Host` to agents (404 unknown, 503 offline). */
export interface Gateway {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The gateway's own endpoint id (what agents see as their peer). */
  readonly endpointId: string;
  /** Replaces every route; throws on an invalid route without changing anything. */
  setRoutes(routes: GatewayRoute[]): void;
  close(): Promise<void>;
}

interface NativeAddress {
  endpointId: string;
  homeRelay?: string | null;
  directAddresses: string[];
}

interface NativePeer extends Omit<PeerStats, "path" | "remoteAddr" | "rttMs"> {
  path: string;
  remoteAddr?: string | null;
  rttMs?: number | null;
}

interface NativeAgent {
  readonly endpointId: string;
  address(): NativeAddress;
  /** The callback gets no arguments: it reads the latest address itself. */
  onAddressChange(callback: () => void): void;
  setAllowlist(entries: AllowlistEntry[]): void;
  stats(): Omit<AgentStats, "peers"> & { peers: NativePeer[] };
  drainRequests(): { requests: ServedRequest[]; dropped: number };
  capture(): NativeCapture;
  waitOnline(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The engine's capture object: napi passes buffers as Node Buffers and options as-is. */
interface NativeCapture extends Omit<RequestCapture, "replay" | "get"> {
  get(id: number): ReturnType<RequestCapture["get"]>;
  replay(
    id: number,
    edits?: {
      method?: string;
      path?: string;
      headers?: { name: string; value: string }[];
      body?: Buffer;
    },
  ): Promise<number>;
}

interface NativeRelayOptions {
  relayMode?: string;
  relayUrls?: string[];
}

/** The raw exports of the native module. */
export interface NativeEngine {
  startAgent(
    options:
      & { secretKey: Buffer; bindAddr?: string; port?: number; allowedPeers?: string[] }
      & NativeRelayOptions,
  ): Promise<NativeAgent>;
  startGateway(
    options:
      & Omit<GatewayOptions, "relays" | "secretKey">
      & { secretKey?: Buffer }
      & NativeRelayOptions,
  ): Promise<Gateway>;
  endpointIdFromSecretKey(secretKey: Buffer): string;
  generateSecretKey(): Buffer;
}

/** `<os>-<arch>` as `Deno.build` spells them, e.g. `linux-x86_64`. */
export function enginePlatform(): string {
  return `${Deno.build.os}-${Deno.build.arch}`;
}

/** The engine's file name for a platform: `datumctl_engine.<os>-<arch>.node`. */
export function engineFileName(platform = enginePlatform()): string {
  return `datumctl_engine.${platform}.node`;
}

/** Environment variable naming an engine file to load instead of the bundled one. */
export const ENGINE_PATH_ENV = "DATUMCTL_ENGINE";

let loaded: NativeEngine | undefined;

/** Opens the native module once and returns its exports. */
export function loadEngine(): NativeEngine {
  if (loaded) return loaded;
  const override = Deno.env.get(ENGINE_PATH_ENV);
  const path = override || fileURLToPath(
    new URL(`../../engine/dist/${engineFileName()}`, import.meta.url),
  );
  if (!exists(path)) {
    if (override) {
      throw new CliError(
        "ENGINE_MISSING",
        `The tunnel engine named by ${ENGINE_PATH_ENV} does not exist: ${path}.`,
        {
          hint: `Point ${ENGINE_PATH_ENV} at a built engine, or unset it.`,
          exitCode: ExitCode.config,
        },
      );
    }
    throw new CliError(
      "ENGINE_UNSUPPORTED",
      `Tunnels are not available on this platform (${enginePlatform()}): this build of datumctl has no tunnel engine for it.`,
      {
        hint:
          "Use a datumctl release for your platform, or build the engine with `deno task engine`.",
        exitCode: ExitCode.config,
      },
    );
  }
  try {
    loaded = createRequire(import.meta.url)(path) as NativeEngine;
  } catch (err) {
    throw new CliError(
      "ENGINE_LOAD_FAILED",
      `The tunnel engine could not be loaded on ${enginePlatform()}: ${path}.`,
      {
        hint: "Rebuild it with `deno task engine`, or use the datumctl release for this platform.",
        exitCode: ExitCode.config,
        details: err instanceof Error ? err.message : String(err),
        cause: err,
      },
    );
  }
  return loaded;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function relayOptions(relays: RelaySetting | undefined, fallback: string): NativeRelayOptions {
  if (relays === undefined) return { relayMode: fallback };
  if (Array.isArray(relays)) return { relayMode: "custom", relayUrls: relays };
  return { relayMode: relays };
}

function toAddress(native: NativeAddress): EngineAddress {
  return {
    endpointId: native.endpointId,
    homeRelay: native.homeRelay ?? null,
    directAddresses: [...native.directAddresses],
  };
}

/** Throws the engine's message as a CliError (bad option, bind failure). */
function engineError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CliError("ENGINE", `The tunnel engine failed: ${message}.`, {
    exitCode: ExitCode.unavailable,
    retryable: true,
    cause: err,
  });
}

/** Starts an agent with `options.secretKey`; it denies everything until {@link Agent.setAllowlist}. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const engine = loadEngine();
  let native: NativeAgent;
  try {
    native = await engine.startAgent({
      secretKey: Buffer.from(options.secretKey),
      bindAddr: options.bindAddr,
      port: options.udpPort,
      ...(options.allowedPeers?.length ? { allowedPeers: options.allowedPeers } : {}),
      ...relayOptions(options.relays, "datum"),
    });
  } catch (err) {
    throw engineError(err);
  }
  return {
    endpointId: native.endpointId,
    address: () => toAddress(native.address()),
    onAddressChange: (listener) =>
      native.onAddressChange(() => listener(toAddress(native.address()))),
    setAllowlist: (entries) =>
      native.setAllowlist(
        entries.map((e) => ({ host: e.host, port: e.port, enabled: e.enabled })),
      ),
    stats: () => {
      const s = native.stats();
      return {
        ...s,
        peers: s.peers.map((p) => ({
          ...p,
          path: p.path as PeerStats["path"],
          remoteAddr: p.remoteAddr ?? null,
          rttMs: p.rttMs ?? null,
        })),
      };
    },
    drainRequests: () => native.drainRequests(),
    capture: () => wrapCapture(native.capture()),
    waitOnline: (timeoutMs) => native.waitOnline(Math.max(0, Math.round(timeoutMs))),
    close: () => native.close(),
  };
}

function wrapCapture(native: NativeCapture): RequestCapture {
  return {
    get enabled() {
      return native.enabled;
    },
    enable: (settings) => native.enable(settings),
    changes: (since) => native.changes(since),
    get: (id) => native.get(id),
    replay: (id, edits) =>
      native.replay(
        id,
        edits && {
          ...edits,
          body: edits.body === undefined ? undefined : Buffer.from(edits.body),
        },
      ),
  };
}

/** Starts a gateway (loopback listener, relays disabled unless asked for). */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const engine = loadEngine();
  const { relays, secretKey, ...rest } = options;
  let native: Gateway;
  try {
    native = await engine.startGateway({
      ...rest,
      ...(secretKey ? { secretKey: Buffer.from(secretKey) } : {}),
      ...relayOptions(relays, "disabled"),
    });
  } catch (err) {
    throw engineError(err);
  }
  return {
    url: native.url,
    port: native.port,
    endpointId: native.endpointId,
    // napi reads a missing optional field as absent but rejects null.
    setRoutes: (routes) =>
      native.setRoutes(routes.map((r) => ({ ...r, relayUrl: r.relayUrl ?? undefined }))),
    close: () => native.close(),
  };
}

/** The endpoint id (64 lowercase hex) of a 32-byte secret key. */
export function endpointIdFromSecretKey(secretKey: Uint8Array): string {
  return loadEngine().endpointIdFromSecretKey(Buffer.from(secretKey));
}

/** A fresh random 32-byte secret key. */
export function generateSecretKey(): Uint8Array {
  return new Uint8Array(loadEngine().generateSecretKey());
}
