/**
 * Iroh peer ids (endpoint ids) as `--allow-peer` and a service definition's `allow_peers` take
 * them: 64 hex characters that are an Ed25519 public key, i.e. the compressed form of a point
 * on the curve. The shape alone is not enough: an id of the right length that is not a point
 * makes the tunnel engine fail when it starts (a retryable-looking error a service manager
 * would restart forever), so it is refused here, where it is still a usage error.
 */
import { UsageError } from "../core/errors.ts";

const P = 2n ** 255n - 19n;

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = ((base % P) + P) % P;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const D = ((-121665n * power(121666n, P - 2n)) % P + P) % P;

/**
 * True when `hex` (64 hex characters) decompresses to a point of Ed25519, as the engine's key
 * parser requires: y is the little-endian number without its top (sign) bit, and
 * x² = (y² − 1) / (d·y² + 1) must have a square root modulo 2²⁵⁵ − 19.
 */
export function isEndpointId(hex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  let y = 0n;
  for (let i = 31; i >= 0; i--) {
    y = (y << 8n) | BigInt(Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  }
  y = (y & ((1n << 255n) - 1n)) % P;
  const yy = (y * y) % P;
  const u = (yy - 1n + P) % P;
  const v = (D * yy + 1n) % P;
  if (v === 0n) return u === 0n;
  const xx = (u * power(v, P - 2n)) % P;
  return xx === 0n || power(xx, (P - 1n) / 2n) === 1n;
}

/**
 * `--allow-peer` values plus a comma-separated `DATUMCTL_TUNNEL_ALLOWED_PEERS`, trimmed,
 * lowercased and deduplicated; a malformed id is a usage error (exit 2), as `listen` says.
 */
export function checkPeerIds(flags: string[] = [], envList?: string): string[] {
  const ids = [...flags, ...(envList ?? "").split(",")].map((id) => id.trim())
    .filter((id) => id !== "");
  for (const id of ids) {
    if (!isEndpointId(id)) {
      throw new UsageError(
        `invalid peer id "${id}" for --allow-peer (or DATUMCTL_TUNNEL_ALLOWED_PEERS)`,
        "A peer is an iroh endpoint id: 64 hex characters, as the 'path' events and the local stack's ready line show.",
      );
    }
  }
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}
