/**
 * Which iroh relays the tunnel agent uses, and where it binds.
 *
 * Order: `DATUMCTL_TUNNEL_RELAY` (`datum`, `disabled`, or a list of relay URLs) →
 * `DATUM_CONNECT_RELAY_URLS` (datum-connect's list) → relays disabled when the API is on a
 * loopback address (the local stack: its gateway dials the agent's loopback address directly) →
 * Datum's relays. Never the n0 public relays: Datum's gateway cannot route through them.
 */

/** How the agent reaches relays, and its bind address. */
export interface RelaySettings {
  mode: "datum" | "custom" | "disabled";
  /** For `custom`: at most 5 relay URLs. */
  urls?: string[];
  /** `ip:port` to bind (loopback when relays are disabled for a loopback API). */
  bindAddr?: string;
  /** Which setting decided this, for `--help`-level diagnostics. */
  source: string;
}

/** Datum's relays, used by default. */
export const DATUM_RELAYS = [
  "https://iroh-relay.us-east-1.datumconnect.net",
  "https://iroh-relay.us-west-1.datumconnect.net",
];

const MAX_RELAYS = 5;

/** Splits on commas, semicolons or whitespace and adds `https://` where there is no scheme. */
export function parseRelayList(text: string): string[] {
  return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean)
    .map((s) => (s.includes("://") ? s : `https://${s}`));
}

function isLoopbackUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * Keeps the 5 relays that answer `GET /ping` fastest (800 ms each, in parallel); lists of 5 or
 * fewer are kept as they are, and when none answers the first 5 are kept.
 */
export async function pickFastestRelays(
  urls: string[],
  ping: (url: string) => Promise<boolean> = defaultPing,
): Promise<string[]> {
  if (urls.length <= MAX_RELAYS) return urls;
  const timed = await Promise.all(urls.map(async (url) => {
    const started = performance.now();
    const ok = await ping(url).catch(() => false);
    return { url, ok, ms: performance.now() - started };
  }));
  const alive = timed.filter((t) => t.ok).sort((a, b) => a.ms - b.ms).map((t) => t.url);
  return (alive.length > 0 ? alive : urls).slice(0, MAX_RELAYS);
}

async function defaultPing(url: string): Promise<boolean> {
  const host = new URL(url).host;
  const response = await fetch(`https://${host}/ping`, { signal: AbortSignal.timeout(800) });
  await response.body?.cancel();
  return response.ok;
}

/** The relay settings for an agent talking to `apiBase`. */
export async function resolveRelaySettings(
  env: (name: string) => string | undefined,
  apiBase: string | undefined,
  ping?: (url: string) => Promise<boolean>,
): Promise<RelaySettings> {
  const bindAddr = env("DATUMCTL_TUNNEL_BIND")?.trim() || undefined;
  const explicit = env("DATUMCTL_TUNNEL_RELAY")?.trim();
  if (explicit) {
    if (explicit === "disabled" || explicit === "none") {
      return { mode: "disabled", bindAddr, source: "DATUMCTL_TUNNEL_RELAY" };
    }
    if (explicit === "datum" || explicit === "default") {
      return { mode: "datum", urls: DATUM_RELAYS, bindAddr, source: "DATUMCTL_TUNNEL_RELAY" };
    }
    return {
      mode: "custom",
      urls: await pickFastestRelays(parseRelayList(explicit), ping),
      bindAddr,
      source: "DATUMCTL_TUNNEL_RELAY",
    };
  }
  const connectList = env("DATUM_CONNECT_RELAY_URLS")?.trim();
  if (connectList) {
    const urls = parseRelayList(connectList);
    if (urls.length > 0) {
      return {
        mode: "custom",
        urls: await pickFastestRelays(urls, ping),
        bindAddr,
        source: "DATUM_CONNECT_RELAY_URLS",
      };
    }
  }
  if (isLoopbackUrl(apiBase)) {
    return { mode: "disabled", bindAddr: bindAddr ?? "127.0.0.1:0", source: "loopback API" };
  }
  return { mode: "datum", urls: DATUM_RELAYS, bindAddr, source: "default" };
}
