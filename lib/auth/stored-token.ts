/**
 * Small, dependency-free helpers for tokens as they are stored: expiry parsing in Go's time
 * format, building a stored token from a token-endpoint answer, the "refresh soon" rule and JWT
 * claim decoding (no verification: only for display and for `DATUM_TOKEN`).
 */
import type { StoredToken } from "../store/credentials.ts";

/** The fields of a token-endpoint success answer that we keep. */
export interface TokenEndpointAnswer {
  access_token: string;
  token_type?: string;
  refresh_token?: string;
  expires_in?: number;
}

/**
 * When `token` expires, or `undefined` when it never does (Go's zero time) or the field is
 * missing or unreadable. Accepts Go's RFC 3339 with nanoseconds and numeric offsets.
 */
export function tokenExpiry(token: Pick<StoredToken, "expiry">): Date | undefined {
  const raw = token.expiry;
  if (!raw || raw.startsWith("0001-01-01")) return undefined;
  // JavaScript dates take at most milliseconds; Go writes up to nanoseconds.
  const trimmed = raw.replace(/(\.\d{3})\d+/, "$1");
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** RFC 3339 in UTC without fractional seconds, e.g. `2026-07-16T10:00:00Z`. */
export function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The token to store after a grant. The previous refresh token is kept when the server does
 * not rotate it.
 */
export function storedTokenFrom(
  answer: TokenEndpointAnswer,
  previous?: StoredToken,
  now: Date = new Date(),
): StoredToken {
  const token: StoredToken = {
    access_token: answer.access_token,
    token_type: answer.token_type ? normaliseTokenType(answer.token_type) : "Bearer",
  };
  const refresh = answer.refresh_token || previous?.refresh_token;
  if (refresh) token.refresh_token = refresh;
  if (typeof answer.expires_in === "number" && answer.expires_in > 0) {
    token.expiry = new Date(now.getTime() + answer.expires_in * 1000).toISOString();
    token.expires_in = answer.expires_in;
  }
  return token;
}

function normaliseTokenType(type: string): string {
  return type.toLowerCase() === "bearer" ? "Bearer" : type;
}

/** How early a token of a long lifetime is refreshed: 5 minutes before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * How long before expiry a token of `lifetimeMs` is refreshed: 5 minutes, or half the lifetime
 * for tokens shorter than 10 minutes (so a short-lived token is not refreshed on every call).
 * An unknown lifetime gets the full 5 minutes.
 */
export function refreshMarginMs(lifetimeMs: number | undefined): number {
  if (lifetimeMs === undefined || !(lifetimeMs > 0)) return REFRESH_MARGIN_MS;
  return Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
}

/**
 * When `token` becomes due for a refresh (its expiry minus {@link refreshMarginMs}), or
 * `undefined` for a token that never expires.
 */
export function refreshDueAt(token: StoredToken): Date | undefined {
  const expiry = tokenExpiry(token);
  if (!expiry) return undefined;
  const lifetime = typeof token.expires_in === "number" && token.expires_in > 0
    ? token.expires_in * 1000
    : undefined;
  return new Date(expiry.getTime() - refreshMarginMs(lifetime));
}

/**
 * True when `token` should be refreshed before use: it expires within 5 minutes (half its
 * lifetime when that is under 10 minutes). A token without an expiry never needs refreshing.
 */
export function refreshDue(token: StoredToken, now: Date = new Date()): boolean {
  const due = refreshDueAt(token);
  return due !== undefined && due.getTime() <= now.getTime();
}

/** The claims of a JWT, decoded without checking the signature; `undefined` if not a JWT. */
export function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return typeof claims === "object" && claims !== null && !Array.isArray(claims)
      ? claims
      : undefined;
  } catch {
    return undefined;
  }
}
