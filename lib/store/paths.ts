/**
 * Where datumctl keeps its files. Everything hangs off `HOME` (or `USERPROFILE`), so tests can
 * give each CLI process its own home.
 */

/** The user's home directory; throws a clear error when it cannot be determined. */
export function homeDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) throw new Error("cannot find the home directory: set HOME");
  return home;
}

/** `~/.datumctl`, datumctl's config folder. */
export function datumctlDir(env?: (name: string) => string | undefined): string {
  return `${homeDir(env)}/.datumctl`;
}

/** `~/.datumctl/config`, the sessions and contexts file shared with Go datumctl. */
export function configPath(env?: (name: string) => string | undefined): string {
  return `${datumctlDir(env)}/config`;
}

/** `<UserCacheDir>/datumctl`: discovery caches and other things safe to delete. */
export function cacheDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/datumctl`;
  if (Deno.build.os === "darwin") return `${homeDir(env)}/Library/Caches/datumctl`;
  if (Deno.build.os === "windows") {
    return `${env("LOCALAPPDATA") ?? `${homeDir(env)}/AppData/Local`}/datumctl/cache`;
  }
  return `${homeDir(env)}/.cache/datumctl`;
}

/** `<UserConfigDir>/datumctl` (service-account keys live below it, as in datumctl). */
export function userConfigDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/datumctl`;
  if (Deno.build.os === "darwin") return `${homeDir(env)}/Library/Application Support/datumctl`;
  if (Deno.build.os === "windows") {
    return `${env("APPDATA") ?? `${homeDir(env)}/AppData/Roaming`}/datumctl`;
  }
  return `${homeDir(env)}/.config/datumctl`;
}

/** datum-connect's data folder ("repo"): `$DATUM_CONNECT_REPO`, else `<data_local_dir>/Datum`. */
export function connectRepoDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const repo = env("DATUM_CONNECT_REPO");
  if (repo) return repo;
  if (Deno.build.os === "darwin") return `${homeDir(env)}/Library/Application Support/Datum`;
  if (Deno.build.os === "windows") {
    return `${env("LOCALAPPDATA") ?? `${homeDir(env)}/AppData/Local`}/Datum`;
  }
  const xdg = env("XDG_DATA_HOME");
  return `${xdg ?? `${homeDir(env)}/.local/share`}/Datum`;
}

/**
 * The folder of named tunnels (`tunnel listen --name N`, `tunnel install`): one subfolder per
 * name with its iroh key, state, PID file and logs. `$DATUMCTL_CONNECT_DIR` wins (system units
 * set `/var/lib/datumctl/connect`); else the platform's user data folder + `datumctl/connect`.
 */
export function connectDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const explicit = env("DATUMCTL_CONNECT_DIR")?.trim();
  if (explicit) return explicit.replace(/\/+$/, "") || "/";
  if (Deno.build.os === "darwin") {
    return `${homeDir(env)}/Library/Application Support/datumctl/connect`;
  }
  if (Deno.build.os === "windows") {
    return `${env("LOCALAPPDATA") ?? `${homeDir(env)}/AppData/Local`}/datumctl/connect`;
  }
  return `${env("XDG_DATA_HOME") || `${homeDir(env)}/.local/share`}/datumctl/connect`;
}
