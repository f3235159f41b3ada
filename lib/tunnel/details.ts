/**
 * Connector `status.connectionDetails` built from the agent's live address, within the CRD's
 * limits that datum-connect ignored: at most 16 addresses, each a bare IP (no IPv6 zone id, no
 * brackets, ≤ 39 characters).
 *
 * The heartbeat patches only when the details changed, so comparing two sets of details is here
 * too.
 */
import type { ConnectionDetails } from "./resources.ts";

/**
 * The `homeRelay` published when the agent has no relay (relays disabled: the local stack, a LAN).
 * Datum's Connector schema requires `homeRelay` and checks it is a URL; datum-connect never meets
 * this because it publishes nothing until its endpoint has a relay. A direct-only agent must still
 * publish its addresses, so it names a relay under `.invalid`, the top-level domain reserved never
 * to resolve: a peer's relay dial fails at once and it uses the direct addresses, and readers
 * (the local gateway, the heartbeat's relay cache) treat it as "no relay".
 */
export const NO_HOME_RELAY = "https://no-relay.invalid/";

/** The most addresses a Connector accepts. */
export const MAX_CONNECTOR_ADDRESSES = 16;

/** An agent's reachable address as the engine reports it. */
export interface AgentAddress {
  /** Home relay URL, when relays are in use and one was chosen. */
  relay?: string;
  /** Direct socket addresses: `1.2.3.4:5678`, `[fe80::1%eth0]:5678`. */
  direct: string[];
}

/** Splits `ip:port` or `[ipv6%zone]:port` into a CRD-valid address and port; undefined if unusable. */
export function parseSocketAddress(text: string): { address: string; port: number } | undefined {
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text.trim());
  if (bracketed) {
    [, host, portText] = bracketed;
  } else {
    const i = text.lastIndexOf(":");
    if (i <= 0) return undefined;
    host = text.slice(0, i).trim();
    portText = text.slice(i + 1);
    if (host.includes(":")) return undefined; // unbracketed IPv6 with a port is ambiguous
  }
  host = host.replace(/%.*$/, "");
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (host.length === 0 || host.length > 39) return undefined;
  if (!/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  return { address: host.toLowerCase(), port };
}

/**
 * The details to publish for endpoint `id`, or undefined when there is nothing to publish (no
 * relay and no direct address). Duplicates (e.g. two zones of one link-local address) collapse.
 */
export function buildConnectionDetails(
  id: string,
  addr: AgentAddress,
): ConnectionDetails | undefined {
  const seen = new Set<string>();
  const addresses: { address: string; port: number }[] = [];
  for (const text of addr.direct) {
    const parsed = parseSocketAddress(text);
    if (!parsed) continue;
    const key = `${parsed.address}|${parsed.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    addresses.push(parsed);
    if (addresses.length === MAX_CONNECTOR_ADDRESSES) break;
  }
  if (!addr.relay && addresses.length === 0) return undefined;
  const homeRelay = addr.relay || NO_HOME_RELAY;
  return { type: "PublicKey", publicKey: { id, discoveryMode: "DNS", homeRelay, addresses } };
}

/** Equal as published (addresses compared in order, as the heartbeat sends them). */
export function sameConnectionDetails(
  a: ConnectionDetails | undefined,
  b: ConnectionDetails | undefined,
): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(d: ConnectionDetails | undefined): unknown {
  if (!d) return null;
  const p = d.publicKey;
  return [
    d.type,
    p.id,
    p.discoveryMode,
    p.homeRelay ?? null,
    p.addresses.map((a) => [a.address, a.port]),
  ];
}
