/**
 * The environment a service unit gives `tunnel run`, so the unit finds the same config, data and
 * settings the install saw: a service manager starts programs with almost nothing set, and a
 * different `HOME` or `XDG_*` would make `tunnel run` look for another config and another iroh
 * identity.
 */
import type { ServiceDefinition, ServiceScope } from "./definition.ts";

/** Where system-scoped services keep their named-tunnel folders (systemd `StateDirectory=`). */
export const SYSTEM_CONNECT_DIR = "/var/lib/datumctl/connect";

/**
 * Copied when set at install time. Locations first; then the tunnel settings a person may have
 * exported for `listen`. Credentials (`DATUM_TOKEN`, `DATUM_CREDENTIALS`) are deliberately left
 * out: the service uses the session named in its definition, and secrets never go into a unit.
 */
const CARRIED = [
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_CACHE_HOME",
  "DATUM_CONNECT_REPO",
  "DATUMCTL_CONNECT_DIR",
  "DATUMCTL_CREDENTIALS_STORE",
  "DENO_DIR",
  "DATUMCTL_ENGINE",
  "DATUMCTL_TUNNEL_RELAY",
  "DATUM_CONNECT_RELAY_URLS",
  "DATUMCTL_TUNNEL_BIND",
  "DATUMCTL_TUNNEL_GATEWAY",
  "DATUMCTL_CONNECTOR_CLASS",
  "DATUM_CONNECT_CREATE_TRAFFIC_PROTECTION_POLICIES",
] as const;

/**
 * `HOME` plus every {@link CARRIED} variable that is set; system services keep their tunnel
 * folders in {@link SYSTEM_CONNECT_DIR} whatever the installer's environment said.
 */
export function serviceEnvironment(
  scope: ServiceScope,
  home: string,
  env: (name: string) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = { HOME: home };
  for (const name of CARRIED) {
    const value = env(name);
    if (value !== undefined && value !== "") out[name] = value;
  }
  if (scope === "system") out.DATUMCTL_CONNECT_DIR = SYSTEM_CONNECT_DIR;
  return out;
}

/**
 * The environment to open a definition's tunnel with: its folder where the service keeps it
 * (system services: {@link SYSTEM_CONNECT_DIR}), and no `DATUM_TOKEN`/`DATUM_CREDENTIALS`, so
 * the definition's session is the one used.
 */
export function definitionEnvironment(
  definition: ServiceDefinition,
  env: (name: string) => string | undefined,
): (name: string) => string | undefined {
  return (name) => {
    if (name === "DATUM_TOKEN" || name === "DATUM_CREDENTIALS") return undefined;
    if (name === "DATUMCTL_CONNECT_DIR" && definition.scope === "system") {
      return SYSTEM_CONNECT_DIR;
    }
    return env(name);
  };
}
