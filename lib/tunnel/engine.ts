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
import type { AgentStats, PeerStats, ServedRequest, StartAgent, TunnelAgent } from "./agent.ts";
import type { AgentAddress } from "./details.ts";

export type { AgentStats, PeerDenials, PeerStats, ServedRequest } from "./agent.ts";

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

/**
 * One local service the raw engine may reach; `enabled: false` keeps an entry listed but denied.
 * The lifecycle passes only {@link ApprovedTarget}s (see agent.ts), which fit this shape.
 */
export interface AllowlistEntry {
  host: string;
  port: number;
  /** Default true. */
  enabled?: boolean;
}

/**
 * A running agent: the lifecycle's {@link TunnelAgent} as the engine implements it, whose raw
 * allowlist also takes disabled entries, plus a wait for the first relay connection.
 */
export interface Agent extends Omit<TunnelAgent, "setAllowlist" | "capture"> {
  /** Replaces the allowlist (starts empty: everything is 403). Loopback spellings are one host. */
  setAllowlist(entries: readonly AllowlistEntry[]): void;
  /** The request inspector's capture (off until enabled). */
  capture(): RequestCapture;
  /** Resolves true once a relay connection is up, false after `timeoutMs`. */
  waitOnline(timeoutMs: number): Promise<boolean>;
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
  setAllowlist(entries: { host: string; port: number; enabled: boolean }[]): void;
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

/** The engine's address as the lifecycle reads it: undefined until there is a relay or a socket. */
function toAddress(native: NativeAddress): AgentAddress | undefined {
  if (!native.homeRelay && native.directAddresses.length === 0) return undefined;
  return {
    ...(native.homeRelay ? { relay: native.homeRelay } : {}),
    direct: [...native.directAddresses],
  };
}

/** The engine's peer as the lifecycle reads it: absent fields instead of the engine's nulls. */
function toPeer(native: NativePeer): PeerStats {
  return {
    endpointId: native.endpointId,
    path: native.path as PeerStats["path"],
    ...(native.remoteAddr != null ? { remoteAddr: native.remoteAddr } : {}),
    ...(native.rttMs != null ? { rttMs: native.rttMs } : {}),
    connections: native.connections,
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
    onAddressChange: (listener) => native.onAddressChange(() => listener()),
    setAllowlist: (entries) =>
      native.setAllowlist(
        entries.map((e) => ({ host: e.host, port: e.port, enabled: e.enabled ?? true })),
      ),
    stats: () => {
      const s = native.stats();
      return { ...s, peers: s.peers.map(toPeer) };
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

/** Starts the engine's agent for `tunnel listen`, with the relay settings it resolved. */
export const startTunnelAgent: StartAgent = ({ secretKey, relay, udpPort, allowedPeers }) =>
  startAgent({
    secretKey,
    relays: relay.mode === "custom" ? relay.urls ?? [] : relay.mode,
    bindAddr: relay.bindAddr,
    udpPort,
    allowedPeers,
  });

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
