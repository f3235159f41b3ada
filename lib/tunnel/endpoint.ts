/**
 * Tunnel endpoints as the user types them and as the HTTPProxy backend stores them.
 *
 * The canonical string is datum-connect's `normalize_endpoint`, compared when adopting a tunnel by
 * endpoint; the positional argument may be a bare port or `host:port`; and a target gives the host
 * and port the agent allowlists and dials.
 */
import { UsageError } from "../core/errors.ts";

/** The host and port a tunnel forwards to. */
export interface Target {
  /** Host without brackets, e.g. `127.0.0.1`, `localhost` or `::1`. */
  host: string;
  port: number;
}

/** Trims and prepends `http://` when there is no scheme, as datum-connect stores backends. */
export function normalizeEndpoint(input: string): string {
  const trimmed = input.trim();
  return trimmed.includes("://") ? trimmed : `http://${trimmed}`;
}

/**
 * Accepts what people type after `tunnel listen`: `8080` and `:8080` mean `localhost:8080`;
 * anything else is taken as an endpoint. Returns the normalized endpoint.
 */
export function endpointFromArgument(input: string): string {
  const trimmed = input.trim();
  if (/^:?\d+$/.test(trimmed)) return normalizeEndpoint(`localhost:${trimmed.replace(/^:/, "")}`);
  return normalizeEndpoint(trimmed);
}

/**
 * The host and explicit port of an endpoint (`host:port`, `[v6]:port`, with or without
 * `http://`). Unlike datum-connect, an explicit default port such as `http://h:80` is accepted:
 * the URL parser there dropped it and then complained that the port was missing.
 */
export function parseTarget(endpoint: string): Target {
  const normalized = normalizeEndpoint(endpoint);
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/.exec(normalized);
  if (!match) throw invalid(endpoint, "it is not a URL or host:port");
  const scheme = match[1].toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    throw invalid(endpoint, `the scheme "${scheme}" is not supported (use http)`);
  }
  let authority = match[2];
  if (authority.includes("@")) {
    throw invalid(endpoint, "credentials in the endpoint are not supported");
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw invalid(endpoint, "the IPv6 address has no closing bracket");
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw invalid(endpoint, "unexpected text after ]");
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    authority = authority.trim();
    const colon = authority.lastIndexOf(":");
    if (colon >= 0 && authority.indexOf(":") !== colon) {
      throw invalid(endpoint, "write an IPv6 address in brackets, e.g. [::1]:8080");
    }
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  if (host === "") throw invalid(endpoint, "the host is missing");
  if (portText === undefined || portText === "") {
    throw invalid(endpoint, "it needs an explicit port, e.g. localhost:8080");
  }
  if (!/^\d{1,5}$/.test(portText)) throw invalid(endpoint, `"${portText}" is not a port`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw invalid(endpoint, `port ${port} is out of range`);
  return { host: host.toLowerCase(), port };
}

/** `host:port`, bracketing IPv6 hosts. */
export function formatTarget(target: Target): string {
  return target.host.includes(":")
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
}

function invalid(endpoint: string, why: string): UsageError {
  return new UsageError(
    `invalid endpoint "${endpoint.trim()}": ${why}`,
    "Give the local service as a port (8080), host:port (localhost:8080) or a URL (http://127.0.0.1:8080).",
  );
}
