/**
 * Finding the local stack's gateway by itself, so `tunnel listen` against `deno task local`
 * needs no DATUMCTL_TUNNEL_GATEWAY: the stack publishes its gateway's URL in each HTTPProxy's
 * `status.addresses` as an implementation-specific address (type {@link STACK_GATEWAY_ADDRESS_TYPE}).
 *
 * The address comes from the server, so it is followed only when both hold:
 * - the tunnel's hostname is under `.localhost`, a name that by definition (RFC 6761) never leaves
 *   this machine, so it cannot be a real public tunnel whose check ought to go to the internet;
 * - the address is `http://` to a loopback IP literal (127.0.0.0/8 or ::1), with no credentials,
 *   path or query: no DNS lookup, nothing to send anywhere but this machine.
 * A production server can therefore never point the public-URL check at a host of its choosing
 * (to make it probe the user's network, or to fake "reachable"); for every real hostname the check
 * goes to `https://<hostname>/` as before. The check itself carries no secret (a bare GET with the
 * tunnel's hostname as Host), and still counts only when the request crossed this machine's agent.
 */
import type { HTTPProxy } from "./resources.ts";

/** The `status.addresses[].type` under which the local stack publishes its gateway's URL. */
export const STACK_GATEWAY_ADDRESS_TYPE = "datumctl.localhost/gateway-url";

/**
 * {@link stackGatewayIn} for tunnel `hostname`, reading its HTTPProxy with `getProxy` only when
 * the hostname is under `.localhost` (a real tunnel costs no extra request). Never throws.
 */
export async function findStackGateway(
  hostname: string,
  getProxy: () => Promise<HTTPProxy | undefined>,
): Promise<string | undefined> {
  if (!isLocalhostName(hostname)) return undefined;
  return stackGatewayIn(await getProxy().catch(() => undefined), hostname);
}

/**
 * The local gateway to send the public-URL check of `hostname` to, when `proxy`'s status names
 * one and it may be followed (see the module comment); else undefined.
 */
export function stackGatewayIn(
  proxy: HTTPProxy | undefined,
  hostname: string,
): string | undefined {
  if (!isLocalhostName(hostname)) return undefined;
  const addresses = proxy?.status?.addresses;
  if (!Array.isArray(addresses)) return undefined;
  for (const address of addresses) {
    const { type, value } = (address ?? {}) as { type?: unknown; value?: unknown };
    if (type !== STACK_GATEWAY_ADDRESS_TYPE || typeof value !== "string") continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" || url.username || url.password) continue;
    if (url.pathname !== "/" || url.search || url.hash) continue;
    if (!isLoopbackIp(url.hostname)) continue;
    return url.origin;
  }
  return undefined;
}

function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name.endsWith(".localhost");
}

/** A loopback IP literal as URL.hostname spells it (`127.x.y.z`, `[::1]`); never a DNS name. */
function isLoopbackIp(host: string): boolean {
  if (host === "[::1]") return true;
  const parts = host.split(".");
  return parts.length === 4 && parts[0] === "127" &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
