/**
 * Which environment credential is in force: `DATUM_TOKEN` (an access token) or
 * `DATUM_CREDENTIALS` (a service-account key file). Kept apart from ./resolve.ts, which loads
 * the credential store, token refresh and TLS set-up, so a command that only asks which kind is
 * in force (`ctx` from its cache) does not load them.
 */

/** Which environment credential is in force, if any (no I/O). */
export function environmentCredential(
  env: (name: string) => string | undefined = Deno.env.get,
): { kind: "DATUM_TOKEN" } | { kind: "DATUM_CREDENTIALS"; path: string } | undefined {
  if (env("DATUM_TOKEN")) return { kind: "DATUM_TOKEN" };
  const path = env("DATUM_CREDENTIALS");
  if (path) return { kind: "DATUM_CREDENTIALS", path };
  return undefined;
}
