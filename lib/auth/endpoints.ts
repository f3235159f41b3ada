/**
 * Which servers a login talks to: the API, the OpenID issuer and the public client id.
 *
 * Login flags become endpoints here; the known environments, server-URL parsing, loopback
 * detection, and the issuer, client id and portal of an auth host live here too. No network and no
 * heavy imports: `whoami` and the scope resolver use it too.
 */
import { UsageError } from "../core/errors.ts";

/** A Datum environment's well-known hosts and client id. */
export interface DatumEnvironment {
  name: "production" | "staging";
  apiHost: string;
  authHost: string;
  portal: string;
  /** The `datumctl-cli` public client (browser, device flow, refresh). */
  clientId: string;
}

/** Datum production. */
export const PRODUCTION: DatumEnvironment = {
  name: "production",
  apiHost: "api.datum.net",
  authHost: "auth.datum.net",
  portal: "https://cloud.datum.net",
  clientId: "328728232771788043",
};

/** Datum staging. */
export const STAGING: DatumEnvironment = {
  name: "staging",
  apiHost: "api.staging.env.datum.net",
  authHost: "auth.staging.env.datum.net",
  portal: "https://cloud.staging.env.datum.net",
  clientId: "325848904128073754",
};

/** Where one login goes. */
export interface LoginEndpoints {
  /** API base URL with scheme, no trailing slash. */
  apiBase: string;
  /** The API host (with `:port` when not default); session names end with it. */
  apiHost: string;
  /** OpenID issuer URL, no trailing slash. */
  issuer: string;
  /** The issuer host (with `:port` when not default); credential keys end with it. */
  authHost: string;
  clientId: string;
}

/** Flags that choose the endpoints (both the new and datumctl's names). */
export interface EndpointFlags {
  endpoint?: string;
  authEndpoint?: string;
  clientId?: string;
  /** datumctl's `--hostname` (auth host). */
  hostname?: string;
  /** datumctl's `--api-hostname`. */
  apiHostname?: string;
}

/** True for 127.0.0.1 (any 127/8), ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Parses a server given as a URL or a bare host into a URL without a trailing slash. Plain
 * `http` is accepted only for loopback hosts (the local stack); anything else must be https.
 */
export function parseServerUrl(value: string, flag: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} "${value}" is not a valid URL or host name`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`${flag} must be an https URL, not ${url.protocol}//`);
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw new UsageError(
      `${flag} uses plain http, which is only allowed for loopback hosts`,
      `Use https://${url.host}${url.pathname === "/" ? "" : url.pathname}.`,
    );
  }
  if (url.search || url.hash) throw new UsageError(`${flag} must not carry a query or fragment`);
  return url;
}

function baseOf(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
}

/** The host (with a non-default port) of a URL or bare host. */
export function hostOf(server: string): string {
  try {
    return new URL(/^[a-z]+:\/\//i.test(server) ? server : `https://${server}`).host;
  } catch {
    return server.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  }
}

/**
 * The issuer URL of a stored bare auth host (`auth.datum.net` → `https://auth.datum.net`);
 * loopback hosts are the local stack and speak plain http.
 */
export function issuerFromAuthHostname(authHostname: string): string {
  if (/^https?:\/\//.test(authHostname)) return authHostname.replace(/\/+$/, "");
  const hostname = authHostname.replace(/:\d+$/, "");
  return `${isLoopbackHost(hostname) ? "http" : "https"}://${authHostname}`;
}

/**
 * `api_hostname` as the credential store keeps it for Go datumctl, which adds `https://` to a
 * bare host: the bare host for an https server, the URL with its scheme for any other.
 */
export function storedApiHostname(apiBase: string): string {
  const url = new URL(apiBase);
  return url.protocol === "https:" ? url.host : `${url.protocol}//${url.host}`;
}

/** `api.X` → `auth.X` and back; `undefined` when the host has no such prefix. */
function swapPrefix(url: URL, from: string, to: string): URL | undefined {
  if (!url.hostname.startsWith(`${from}.`)) return undefined;
  const swapped = new URL(url.href);
  swapped.hostname = `${to}.${url.hostname.slice(from.length + 1)}`;
  swapped.pathname = "/";
  return swapped;
}

/** The `datumctl-cli` client id for an auth host, by suffix; `undefined` for unknown hosts. */
export function clientIdForAuthHost(authHost: string): string | undefined {
  const hostname = authHost.replace(/:\d+$/, "").toLowerCase();
  if (hostname.endsWith(".staging.env.datum.net")) return STAGING.clientId;
  if (hostname === "datum.net" || hostname.endsWith(".datum.net")) return PRODUCTION.clientId;
  return undefined;
}

/** The web portal for an API or auth host, by suffix; `undefined` for unknown hosts. */
export function portalForHost(host: string): string | undefined {
  const hostname = host.replace(/:\d+$/, "").toLowerCase();
  if (hostname.endsWith(".staging.env.datum.net")) return STAGING.portal;
  if (hostname === "datum.net" || hostname.endsWith(".datum.net")) return PRODUCTION.portal;
  return undefined;
}

function pickOne(
  a: string | undefined,
  aFlag: string,
  b: string | undefined,
  bFlag: string,
): [string, string] | undefined {
  if (a && b && a !== b) {
    throw new UsageError(`${aFlag} and ${bFlag} name the same server; give only one`);
  }
  if (a) return [a, aFlag];
  if (b) return [b, bFlag];
  return undefined;
}

/**
 * Resolves the login endpoints from flags: production by default; the issuer
 * derived from the API host (`api.X` → `auth.X`) and vice versa; the client id by the auth
 * host's suffix, else `--client-id` is required.
 */
export function resolveLoginEndpoints(flags: EndpointFlags): LoginEndpoints {
  const apiGiven = pickOne(flags.endpoint, "--endpoint", flags.apiHostname, "--api-hostname");
  const authGiven = pickOne(flags.authEndpoint, "--auth-endpoint", flags.hostname, "--hostname");
  let api = apiGiven ? parseServerUrl(apiGiven[0], apiGiven[1]) : undefined;
  let issuer = authGiven ? parseServerUrl(authGiven[0], authGiven[1]) : undefined;

  if (!api && !issuer) {
    api = new URL(`https://${PRODUCTION.apiHost}`);
    issuer = new URL(`https://${PRODUCTION.authHost}`);
  } else if (api && !issuer) {
    issuer = swapPrefix(api, "api", "auth");
    if (!issuer) {
      throw new UsageError(
        `cannot tell the sign-in server for ${api.host}: its name does not start with "api."`,
        "Pass --auth-endpoint ISSUER_URL.",
      );
    }
  } else if (issuer && !api) {
    api = swapPrefix(issuer, "auth", "api");
    if (!api) {
      throw new UsageError(
        `cannot tell the API server for ${issuer.host}: its name does not start with "auth."`,
        "Pass --endpoint API_URL.",
      );
    }
  }

  const authHost = issuer!.host;
  const clientId = flags.clientId || clientIdForAuthHost(authHost);
  if (!clientId) {
    throw new UsageError(
      `client ID not configured for hostname '${authHost}'. Please specify one with the --client-id flag`,
      "Datum's own hosts need no --client-id; other servers do.",
    );
  }
  return {
    apiBase: baseOf(api!),
    apiHost: api!.host,
    issuer: baseOf(issuer!),
    authHost,
    clientId,
  };
}
