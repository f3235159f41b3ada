/**
 * Response helpers shared by the emulator's modules (and the router in front of the real API
 * server): JSON bodies, `metav1.Status` errors, and the version the stack reports.
 */

import { ApiError } from "../api_status.ts";

/** What `/version` answers. */
export const VERSION_INFO = {
  major: "1",
  minor: "33",
  gitVersion: "v1.33.0-datum-local",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.24.0",
  compiler: "gc",
  platform: "linux/amd64",
};

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** A copy with every object's keys in order, as Go writes a custom resource (a map). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out as T;
  }
  return value;
}

/** A JSON response of a custom resource or a list of them, keys sorted like the real server's. */
export function objectJson(body: unknown, status = 200): Response {
  return json(sortKeys(body), status);
}

/** The Status body of an error, with its code. */
export function statusResponse(err: ApiError): Response {
  return json(err.toStatus(), err.code);
}

/** 401 as the emulator answers a missing or unknown token. */
export function unauthorized(): Response {
  return statusResponse(new ApiError(401, "Unauthorized", "Unauthorized"));
}
