/**
 * Where the request inspector listens: `--inspect [ADDR]` and `--inspect-body-limit SIZE` read
 * into settings. The inspector only ever binds a loopback address, so a page that shows every
 * request's headers and can replay them is reachable from this machine only.
 */
import { UsageError } from "../../core/errors.ts";

/** The inspector's default port (the one ngrok's inspector made familiar). */
export const DEFAULT_INSPECT_PORT = 4040;
/** Bytes kept of each body by default. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Requests kept by default. */
export const DEFAULT_CAPACITY = 500;
/** The largest body prefix one may ask for (the engine's own ceiling). */
export const MAX_BODY_LIMIT = 16 * 1024 * 1024;

/** How `tunnel listen --inspect` runs the inspector. */
export interface InspectSettings {
  /** A loopback IP literal: `127.0.0.1` or `::1`. */
  hostname: string;
  port: number;
  /** True when the port is the default one: a taken port then moves on to the next free one. */
  portIsDefault: boolean;
  bodyLimit: number;
  capacity: number;
  showSecrets: boolean;
}

const LOOPBACK: Record<string, string> = {
  "127.0.0.1": "127.0.0.1",
  "localhost": "127.0.0.1",
  "::1": "::1",
  "[::1]": "::1",
};

function badAddress(text: string, why: string): UsageError {
  return new UsageError(
    `--inspect ${JSON.stringify(text)} is not an inspector address: ${why}`,
    "Give a port (4041) or a loopback host:port (127.0.0.1:4041, [::1]:4041); the inspector never listens beyond this machine.",
  );
}

/**
 * Reads `--inspect`'s optional value: nothing or `true` (the default 127.0.0.1:4040), a port, or
 * `host:port` with a loopback host.
 */
export function parseInspectAddress(
  value: string | boolean | undefined,
): { hostname: string; port: number; portIsDefault: boolean } {
  if (value === undefined || value === true || value === "" || value === "true") {
    return { hostname: "127.0.0.1", port: DEFAULT_INSPECT_PORT, portIsDefault: true };
  }
  const text = String(value).trim();
  let host = "127.0.0.1";
  let portText = text;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
  } else if (/^[^:]+:\d+$/.test(text)) {
    [host, portText] = text.split(":");
  } else if (!/^\d+$/.test(text)) {
    throw badAddress(text, "expected a port or host:port");
  }
  const hostname = LOOPBACK[host.toLowerCase()];
  if (!hostname) throw badAddress(text, `${host} is not a loopback address`);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw badAddress(text, "the port must be 1-65535");
  }
  return { hostname, port, portIsDefault: false };
}

/**
 * Reads `--inspect-body-limit`: bytes kept of each body, as a number of KiB (`64`) or with a unit
 * (`512B`, `64KiB`, `1MiB`, `1m`); `0` keeps headers only.
 */
export function parseBodyLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_BODY_LIMIT;
  const match = /^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(value);
  if (!match) {
    throw new UsageError(
      `--inspect-body-limit ${JSON.stringify(value)} is not a size`,
      "Give KiB (64), or a size with a unit (512B, 64KiB, 1MiB); 0 keeps headers only.",
    );
  }
  const unit = (match[2] ?? "k").toLowerCase();
  const scale = unit === "b" ? 1 : unit.startsWith("k") ? 1024 : 1024 * 1024;
  const bytes = Number(match[1]) * scale;
  if (bytes > MAX_BODY_LIMIT) {
    throw new UsageError(
      `--inspect-body-limit ${value} is more than the ${
        MAX_BODY_LIMIT / 1024 / 1024
      } MiB the inspector keeps of a body`,
      "The inspector keeps the first part of each body for display; 64 KiB is usually plenty.",
    );
  }
  return bytes;
}

/** The settings for `--inspect [ADDR]`, `--inspect-body-limit` and `--inspect-show-secrets`. */
export function inspectSettings(flags: {
  inspect?: string | boolean;
  inspectBodyLimit?: string;
  inspectShowSecrets?: boolean;
}): InspectSettings {
  return {
    ...parseInspectAddress(flags.inspect),
    bodyLimit: parseBodyLimit(flags.inspectBodyLimit),
    capacity: DEFAULT_CAPACITY,
    showSecrets: !!flags.inspectShowSecrets,
  };
}
