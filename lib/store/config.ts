/**
 * `~/.datumctl/config`: sessions, contexts and the discovery cache, in Go datumctl's
 * `datumctl.config.datum.net/v1beta1` schema so both tools read each other's files.
 *
 * Reads never repair: a file that does not parse is reported with its path and line and is left
 * untouched. Writes go through {@link updateConfig}, which locks, re-reads, applies the change and
 * writes atomically, so two processes never lose each other's updates. A config that is a
 * symbolic link (a dotfiles repo) stays one: the write lands in its target.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import { loadYaml } from "../yaml.ts";
import { cacheDir, configPath } from "./paths.ts";
import { readTextIfExists, tightenDatumctlDir, withFileLock, writePrivateFile } from "./files.ts";

/** The API endpoint of a session. */
export interface SessionEndpoint {
  server: string;
  "auth-hostname": string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "certificate-authority-data"?: string;
}

/** One login: an (email, endpoint) pair whose secrets live in the credential store. */
export interface Session {
  /** `<email>@<api host>`; never contains `/`. */
  name: string;
  /** The credential-store key, `<email>@<auth host>`. */
  "user-key": string;
  "user-email": string;
  "user-name"?: string;
  endpoint: SessionEndpoint;
  "last-context"?: string;
  [extra: string]: unknown;
}

/** One organization or project a session can work in. */
export interface Context {
  /** `<session>/<org>` or `<session>/<org>/<project>`. */
  name: string;
  session: string;
  "organization-id"?: string;
  "project-id"?: string;
  namespace?: string;
  [extra: string]: unknown;
}

/** A cached organization from discovery. */
export interface CachedOrganization {
  id: string;
  "display-name"?: string;
  session: string;
  [extra: string]: unknown;
}

/** A cached project from discovery. */
export interface CachedProject {
  id: string;
  "display-name"?: string;
  "org-id": string;
  session: string;
  [extra: string]: unknown;
}

/** The whole config file. Unknown keys are kept so newer datumctl fields survive our writes. */
export interface DatumctlConfig {
  apiVersion: string;
  kind: string;
  sessions: Session[];
  contexts: Context[];
  "current-context"?: string;
  "active-session"?: string;
  "auto-update"?: boolean;
  cache: {
    organizations: CachedOrganization[];
    projects: CachedProject[];
    "last-refreshed"?: string;
  };
  [extra: string]: unknown;
}

/** The config apiVersion Go datumctl writes and reads. */
export const CONFIG_API_VERSION = "datumctl.config.datum.net/v1beta1";
/** The config kind Go datumctl writes and reads. */
export const CONFIG_KIND = "DatumctlConfig";

/** An empty config, as a missing or empty file reads. */
export function emptyConfig(): DatumctlConfig {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: CONFIG_KIND,
    sessions: [],
    contexts: [],
    cache: { organizations: [], projects: [] },
  };
}

/** Parses config text; `path` is only used in error messages. */
export async function parseConfig(text: string, path: string): Promise<DatumctlConfig> {
  if (text.trim() === "") return emptyConfig();
  const { parseDocument } = await loadYaml();
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first.linePos?.[0]?.line;
    throw new CliError(
      "CONFIG_INVALID",
      `cannot parse ${path}${line ? ` (line ${line})` : ""}: ${first.message.split("\n")[0]}`,
      {
        hint: "Fix or move the file aside; datumctl will not overwrite a file it cannot read.",
        exitCode: ExitCode.dataError,
      },
    );
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return emptyConfig();
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new CliError("CONFIG_INVALID", `cannot parse ${path}: expected a mapping at the top`, {
      hint: "Fix or move the file aside; datumctl will not overwrite a file it cannot read.",
      exitCode: ExitCode.dataError,
    });
  }
  const raw = value as Partial<DatumctlConfig>;
  const base = emptyConfig();
  return qualifyContextNames({
    ...base,
    ...raw,
    sessions: Array.isArray(raw.sessions) ? raw.sessions : [],
    contexts: Array.isArray(raw.contexts) ? raw.contexts : [],
    cache: {
      ...base.cache,
      ...(raw.cache ?? {}),
      organizations: Array.isArray(raw.cache?.organizations) ? raw.cache.organizations : [],
      projects: Array.isArray(raw.cache?.projects) ? raw.cache.projects : [],
    },
  });
}

/**
 * Upgrades configs written before context names carried their session:
 * a bare `org[/project]` name becomes `<session>/org[/project]`, the pointers to it follow, and
 * cache entries without a session are dropped (discovery refills them). Idempotent, so it simply
 * runs on every read.
 */
function qualifyContextNames(config: DatumctlConfig): DatumctlConfig {
  for (const ctx of config.contexts) {
    if (!ctx || typeof ctx !== "object" || !ctx.session || !ctx["organization-id"]) continue;
    const ref = ctx["project-id"]
      ? `${ctx["organization-id"]}/${ctx["project-id"]}`
      : ctx["organization-id"];
    const want = `${ctx.session}/${ref}`;
    if (ctx.name === want) continue;
    const old = ctx.name;
    ctx.name = want;
    if (config["current-context"] === old) config["current-context"] = want;
    for (const session of config.sessions) {
      if (session["last-context"] === old) session["last-context"] = want;
    }
  }
  config.cache.organizations = config.cache.organizations.filter((o) => o && o.session);
  config.cache.projects = config.cache.projects.filter((p) => p && p.session);
  return config;
}

/** Serialises a config the way Go datumctl lays it out. */
export async function serializeConfig(config: DatumctlConfig): Promise<string> {
  const { stringify } = await loadYaml();
  return stringify(config, { indentSeq: false, lineWidth: 0 });
}

/**
 * `<cache>/parsed-config.json`: the last config text and what it parsed to, so a read of an
 * unchanged config skips the YAML parser (loading it costs more than the whole command). A hit
 * needs the very same text, so it can never answer for another file or a changed one.
 */
function parsedConfigCachePath(): string | undefined {
  try {
    return `${cacheDir()}/parsed-config.json`;
  } catch {
    return undefined;
  }
}

/** Whether JSON holds `value` exactly (YAML can also give non-finite numbers). */
function jsonExact(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(jsonExact);
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value as Record<string, unknown>).every(jsonExact);
  }
  return false;
}

async function cachedParse(text: string, path: string): Promise<DatumctlConfig> {
  const cachePath = parsedConfigCachePath();
  if (cachePath) {
    try {
      const cached = JSON.parse(await Deno.readTextFile(cachePath));
      if (cached?.text === text && cached.config) return cached.config as DatumctlConfig;
    } catch {
      // Missing or damaged: parse the YAML and write a fresh one.
    }
  }
  const config = await parseConfig(text, path);
  if (cachePath && jsonExact(config)) {
    // Best effort: a cache that cannot be written only costs the next read the YAML parser.
    await writePrivateFile(cachePath, JSON.stringify({ text, config })).catch(() => {});
  }
  return config;
}

/** Reads the config (an empty one when the file is missing). */
export async function loadConfig(
  path: string = configPath(),
): Promise<DatumctlConfig> {
  await tightenDatumctlDir(path.slice(0, Math.max(path.lastIndexOf("/"), 1)));
  const text = await readTextIfExists(path);
  if (text === undefined || text.trim() === "") return emptyConfig();
  return await cachedParse(text, path);
}

/**
 * Applies `change` to the freshest config under the cross-process lock and writes it
 * atomically. Returns what `change` returned.
 */
export async function updateConfig<T>(
  change: (config: DatumctlConfig) => T | Promise<T>,
  path: string = configPath(),
): Promise<T> {
  return await withFileLock(path, async () => {
    const config = await loadConfig(path);
    const result = await change(config);
    await writePrivateFile(path, await serializeConfig(config));
    return result;
  });
}
