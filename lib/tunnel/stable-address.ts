/**
 * A tunnel agent's address kept across restarts, so a restart is ready in about a second instead
 * of ~30 s. Datum's edge finds the agent through an iroh DNS record with a 30 s TTL: after a
 * restart its resolver keeps the previous answer (UDP port, home relay) for up to 30 s. When the
 * new agent binds the same UDP port, that cached answer is still right.
 *
 * The facts live in `<repo>/projects/<pid>/endpoint.yml` beside the tunnel's `listen_key` (a file
 * datum-connect does not read): the endpoint id, the UDP port, the home relay and the direct
 * addresses last published. The home relay is kept for diagnostics and published at start until
 * the agent has one: iroh 1.0.2 offers no way to prefer a home relay (it picks the relay of its
 * relay map with the lowest measured latency, with hysteresis only within one process).
 *
 * A file that does not parse is a `CliError` with exit 65 naming path and line, and is never
 * overwritten. When the remembered port cannot be bound, the agent starts on a new port with a
 * warning. The file is rewritten whenever the port or the home relay changes.
 */
import { parseDocument, stringify } from "yaml";
import { CliError, ExitCode } from "../core/errors.ts";
import { readTextIfExists, writePrivateFile } from "../store/files.ts";
import type { StartAgent, TunnelAgent } from "./agent.ts";
import type { AgentAddress } from "./details.ts";
import type { TunnelEvent } from "./events.ts";
import { listenKeyPath } from "./keys.ts";
import type { RelaySettings } from "./relays.ts";

/** What was remembered of an agent's address. */
export interface RememberedEndpoint {
  /** 64 hex: the identity the address belonged to. */
  endpointId?: string;
  /** The UDP port the agent was bound to. */
  udpPort?: number;
  /** The home relay it was connected to, when relays were in use. */
  homeRelay?: string;
  /** The direct addresses last seen (`ip:port`). */
  directAddresses?: string[];
  /** When this was written (RFC 3339). */
  updated?: string;
}

/** `<repo>/projects/<projectId>/endpoint.yml`. */
export function endpointFilePath(repo: string, projectId: string): string {
  return listenKeyPath(repo, projectId).replace(/listen_key$/, "endpoint.yml");
}

function unreadable(path: string, line: number | undefined, why: string): CliError {
  return new CliError(
    "TUNNEL_ENDPOINT_FILE_INVALID",
    `cannot read ${path}${line ? ` line ${line}` : ""}: ${why}`,
    {
      hint:
        "Fix or delete the file (it only remembers the tunnel's UDP port and relay); datumctl does not overwrite a file it cannot read.",
      exitCode: ExitCode.dataError,
    },
  );
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function isPort(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/**
 * The remembered address, or undefined when there is none yet. Throws (exit 65) when the file
 * exists but is not what {@link rememberEndpoint} writes.
 */
export async function readRememberedEndpoint(
  repo: string,
  projectId: string,
): Promise<RememberedEndpoint | undefined> {
  const path = endpointFilePath(repo, projectId);
  const text = await readTextIfExists(path);
  if (text === undefined || text.trim() === "") return undefined;
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw unreadable(
      path,
      e.linePos?.[0]?.line ?? lineOf(text, e.pos[0]),
      e.message.split("\n")[0],
    );
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw unreadable(path, 1, "expected a mapping (endpoint_id, udp_port, home_relay, ...)");
  }
  const raw = value as Record<string, unknown>;
  const fieldLine = (key: string) => {
    const node = doc.get(key, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineOf(text, node.range[0]) : undefined;
  };
  const out: RememberedEndpoint = {};
  if (raw.endpoint_id !== undefined) {
    if (typeof raw.endpoint_id !== "string" || !/^[0-9a-f]{64}$/.test(raw.endpoint_id)) {
      throw unreadable(path, fieldLine("endpoint_id"), "endpoint_id must be 64 hex characters");
    }
    out.endpointId = raw.endpoint_id;
  }
  if (raw.udp_port !== undefined) {
    if (!isPort(raw.udp_port)) {
      throw unreadable(path, fieldLine("udp_port"), "udp_port must be a port number (1-65535)");
    }
    out.udpPort = raw.udp_port;
  }
  if (raw.home_relay !== undefined && raw.home_relay !== null) {
    if (typeof raw.home_relay !== "string") {
      throw unreadable(path, fieldLine("home_relay"), "home_relay must be a URL");
    }
    out.homeRelay = raw.home_relay;
  }
  if (raw.direct_addresses !== undefined) {
    if (
      !Array.isArray(raw.direct_addresses) ||
      !raw.direct_addresses.every((a) => typeof a === "string")
    ) {
      throw unreadable(
        path,
        fieldLine("direct_addresses"),
        "direct_addresses must be a list of ip:port",
      );
    }
    out.directAddresses = raw.direct_addresses as string[];
  }
  if (typeof raw.updated === "string") out.updated = raw.updated;
  return out;
}

/** Writes the remembered address atomically (0600). */
export async function rememberEndpoint(
  repo: string,
  projectId: string,
  value: RememberedEndpoint,
): Promise<void> {
  const body: Record<string, unknown> = {};
  if (value.endpointId) body.endpoint_id = value.endpointId;
  if (value.udpPort) body.udp_port = value.udpPort;
  if (value.homeRelay) body.home_relay = value.homeRelay;
  if (value.directAddresses) body.direct_addresses = value.directAddresses;
  body.updated = value.updated ?? new Date().toISOString();
  const text =
    "# datumctl: this tunnel's address, kept so that a restart binds the same UDP port and the\n" +
    "# edge's cached iroh DNS answer stays valid. Safe to delete (the next start picks a new port).\n" +
    stringify(body);
  await writePrivateFile(endpointFilePath(repo, projectId), text);
}

/** The UDP port of an address: the first IPv4 direct address's, else the first one's. */
export function udpPortOf(address: AgentAddress | undefined): number | undefined {
  const direct = address?.direct ?? [];
  const ports = (pick: (a: string) => boolean) =>
    direct.filter(pick).map((a) => Number(/:(\d+)$/.exec(a)?.[1])).filter(isPort);
  return ports((a) => !a.startsWith("["))[0] ?? ports(() => true)[0];
}

/** Where to bind: an `ip:port` (in place of the relay settings' own) or a port on all interfaces. */
export interface BindRequest {
  /** Replaces `RelaySettings.bindAddr`. */
  bindAddr?: string;
  /** Bind all interfaces (IPv4 and IPv6) on this port; only without `bindAddr`. */
  udpPort?: number;
  /** The remembered port asked for, if any (undefined: the explicit or a random port). */
  remembered?: number;
}

/**
 * The bind to ask for: an explicit `ip:port` with a non-zero port wins (`DATUMCTL_TUNNEL_BIND`);
 * otherwise the remembered port, on the settings' IP (`ip:0`) or on all interfaces.
 */
export function bindRequest(bindAddr: string | undefined, rememberedPort?: number): BindRequest {
  const match = bindAddr ? /^(.*):(\d+)$/.exec(bindAddr) : null;
  if (bindAddr && (!match || Number(match[2]) !== 0)) return { bindAddr };
  if (!rememberedPort) return { bindAddr };
  if (match) return { bindAddr: `${match[1]}:${rememberedPort}`, remembered: rememberedPort };
  return { udpPort: rememberedPort, remembered: rememberedPort };
}

function sameRelay(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}

/** What {@link startOnRememberedPort} started. */
export interface StartedAgent {
  /** The agent, its address completed with the remembered relay until it has its own. */
  agent: TunnelAgent;
  /** The agent's own address (what {@link AddressMemory} records). */
  ownAddress: () => AgentAddress | undefined;
  /** Whether it is bound to the UDP port of the last run (so the edge's cached answer holds). */
  keptPort: boolean;
}

/**
 * Starts the agent on the remembered UDP port; when that fails (the port is taken), on a new
 * port, with a `udp_port_changed` warning (the edge may take up to the DNS TTL to follow).
 * While the agent has no home relay yet, its address carries the remembered one (if it is
 * still among the configured relays), so the first publication keeps the cached record valid.
 */
export async function startOnRememberedPort(options: {
  startAgent: StartAgent;
  secretKey: Uint8Array;
  relay: RelaySettings;
  remembered: RememberedEndpoint | undefined;
  dnsTtlSeconds: number;
  warn: (event: Extract<TunnelEvent, { type: "warning" }>) => void;
}): Promise<StartedAgent> {
  const { relay, remembered } = options;
  const request = bindRequest(relay.bindAddr, remembered?.udpPort);
  const start = (req: BindRequest) =>
    options.startAgent({
      secretKey: options.secretKey,
      relay: { ...relay, bindAddr: req.bindAddr },
      udpPort: req.udpPort,
    });
  let agent: TunnelAgent;
  if (request.remembered === undefined) {
    agent = await start(request);
  } else {
    try {
      agent = await start(request);
    } catch (err) {
      agent = await start({ bindAddr: relay.bindAddr });
      const now = udpPortOf(agent.address());
      options.warn({
        type: "warning",
        code: "udp_port_changed",
        message: `UDP port ${request.remembered} of the last run is not available (${
          (err as Error).message
        }); using ${
          now ? `port ${now}` : "a new port"
        }, so the public URL may take up to ${options.dnsTtlSeconds}s to follow (Datum's edge caches the old address that long).`,
      });
    }
  }
  const keptRelay = relay.mode !== "disabled" && remembered?.homeRelay &&
      (relay.urls ?? []).some((u) => sameRelay(u, remembered.homeRelay!))
    ? remembered.homeRelay
    : undefined;
  const ownAddress = () => agent.address();
  const keptPort = remembered?.udpPort !== undefined &&
    udpPortOf(ownAddress()) === remembered.udpPort;
  if (!keptRelay) return { agent, ownAddress, keptPort };
  return {
    agent: {
      ...agent,
      address: () => {
        const live = agent.address();
        if (live?.relay) return live;
        return { relay: keptRelay, direct: live?.direct ?? [] };
      },
    },
    ownAddress,
    keptPort,
  };
}

/** Keeps `endpoint.yml` in step with the agent: written when the port or the relay change. */
export class AddressMemory {
  #written = "";
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: string,
    private readonly projectId: string,
    private readonly endpointId: string,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Records `address` (the agent's own, not a remembered relay); returns when written. */
  update(address: AgentAddress | undefined): Promise<void> {
    const udpPort = udpPortOf(address);
    if (!udpPort && !address?.relay) return this.#pending;
    const signature = JSON.stringify([udpPort, address?.relay, address?.direct]);
    if (signature === this.#written) return this.#pending;
    this.#written = signature;
    this.#pending = this.#pending.then(() =>
      rememberEndpoint(this.repo, this.projectId, {
        endpointId: this.endpointId,
        udpPort,
        homeRelay: address?.relay,
        directAddresses: address?.direct,
      }).catch((err) => this.onError((err as Error).message))
    );
    return this.#pending;
  }

  /** Waits for the last write. */
  flush(): Promise<void> {
    return this.#pending;
  }
}
