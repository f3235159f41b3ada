/**
 * API discovery: which resource types a control plane serves, and what a typed name means.
 *
 * Discovery fetches `/api`, `/api/v1`, `/apis` and every `/apis/<g>/<v>`, caches the result on
 * disk for 6 hours under the user cache dir, and refetches once on a miss. A type is named by its
 * plural, singular, short name or kind, optionally qualified as `TYPE.group`,
 * `TYPE.version.group` or `group/version/TYPE`; a typo gets a "did you mean".
 */
import type { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { apiHost } from "../api/urls.ts";
import { cacheDir } from "../store/paths.ts";
import { readTextIfExists, writePrivateFile } from "../store/files.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { editDistance } from "../edit-distance.ts";

/** One resource type a control plane serves, at one version. */
export interface ResourceType {
  /** API group; `""` for the core group. */
  group: string;
  version: string;
  /** Lower-case plural used in URLs, e.g. `httpproxies`. */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories: string[];
  /** True when `version` is the group's preferred version. */
  preferred: boolean;
}

/** The `apiVersion` of a type (`networking.datumapis.com/v1alpha1`, or `v1` for core). */
export function typeApiVersion(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** `plural.group` as `api-resources -o name` prints it. */
export function typeFullName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** What discovery found on one control plane. */
export interface DiscoveryDocument {
  /** When it was fetched (ISO time). */
  fetchedAt: string;
  /** Every served group/version (`v1`, `networking.datumapis.com/v1alpha1`, …). */
  groupVersions: string[];
  resources: ResourceType[];
}

/**
 * The preferred version of every type in `doc`, sorted by group then plural (`api-resources`),
 * optionally only the namespaced (or cluster-wide) ones, or one API group (`""`: core).
 */
export function preferredTypes(
  doc: DiscoveryDocument,
  filter: { namespaced?: boolean; apiGroup?: string } = {},
): ResourceType[] {
  let types = doc.resources.filter((r) => r.preferred);
  if (filter.namespaced !== undefined) {
    types = types.filter((r) => r.namespaced === filter.namespaced);
  }
  if (filter.apiGroup !== undefined) types = types.filter((r) => r.group === filter.apiGroup);
  return types.sort((a, b) => a.group.localeCompare(b.group) || a.plural.localeCompare(b.plural));
}

/** How long a cached discovery document is trusted. */
export const DISCOVERY_TTL_MS = 6 * 60 * 60 * 1000;

interface ApiResourceList {
  groupVersion?: string;
  resources?: {
    name: string;
    singularName?: string;
    namespaced?: boolean;
    kind: string;
    verbs?: string[];
    shortNames?: string[];
    categories?: string[];
  }[];
}

interface ApiGroupList {
  groups?: {
    name: string;
    versions?: { groupVersion: string; version: string }[];
    preferredVersion?: { groupVersion: string; version: string };
  }[];
}

function toTypes(
  list: ApiResourceList,
  group: string,
  version: string,
  preferred: boolean,
): ResourceType[] {
  return (list.resources ?? [])
    .filter((r) => !r.name.includes("/")) // subresources (status, scale) are not types
    .map((r) => ({
      group,
      version,
      plural: r.name,
      singular: r.singularName || r.kind.toLowerCase(),
      kind: r.kind,
      namespaced: r.namespaced ?? false,
      shortNames: r.shortNames ?? [],
      verbs: r.verbs ?? [],
      categories: r.categories ?? [],
      preferred,
    }));
}

/** Fetches the full discovery document of a control plane (no cache). */
export async function fetchDiscovery(client: ApiClient): Promise<DiscoveryDocument> {
  const groupVersions: string[] = [];
  const jobs: Promise<ResourceType[]>[] = [];
  const optional = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await client.get<T>(path);
    } catch (err) {
      // A control plane without the core group, or a group/version that disappeared between
      // the two requests, is not a failure of discovery as a whole.
      if (err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 503)) {
        return undefined;
      }
      throw err;
    }
  };

  const core = await optional<{ versions?: string[] }>("/api");
  for (const v of core?.versions ?? []) {
    groupVersions.push(v);
    jobs.push(
      optional<ApiResourceList>(`/api/${v}`).then((l) => (l ? toTypes(l, "", v, v === "v1") : [])),
    );
  }
  const groups = await optional<ApiGroupList>("/apis");
  for (const g of groups?.groups ?? []) {
    const preferred = g.preferredVersion?.version ?? g.versions?.[0]?.version;
    for (const v of g.versions ?? []) {
      groupVersions.push(v.groupVersion);
      jobs.push(
        optional<ApiResourceList>(`/apis/${g.name}/${v.version}`).then((l) =>
          l ? toTypes(l, g.name, v.version, v.version === preferred) : []
        ),
      );
    }
  }
  const resources = (await Promise.all(jobs)).flat();
  // Like kubectl's preferred resources: a type only served in a non-preferred version of its
  // group (e.g. HTTPProxy in v1alpha next to v1alpha1) is preferred at the first version serving it.
  for (const r of resources) {
    if (r.preferred) continue;
    const siblings = resources.filter((o) => o.group === r.group && o.plural === r.plural);
    if (!siblings.some((o) => o.preferred) && siblings[0] === r) r.preferred = true;
  }
  return { fetchedAt: new Date().toISOString(), groupVersions, resources };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `<cache>/discovery/<host>/<hash of the control-plane URL>.json`. */
export async function discoveryCachePath(
  baseUrl: string,
  env?: (name: string) => string | undefined,
): Promise<string> {
  const host = apiHost(baseUrl).replace(/[^A-Za-z0-9.-]/g, "_");
  return `${cacheDir(env)}/discovery/${host}/${(await sha256Hex(baseUrl)).slice(0, 24)}.json`;
}

/** Discovery for one control plane, through the on-disk cache. */
export class Discovery {
  #doc?: DiscoveryDocument;
  #fresh = false;

  constructor(
    private readonly client: ApiClient,
    private readonly options: {
      env?: (name: string) => string | undefined;
      now?: () => number;
      ttlMs?: number;
    } = {},
  ) {}

  /** The discovery document: from the cache when younger than the TTL, else fetched. */
  async document(): Promise<DiscoveryDocument> {
    if (this.#doc) return this.#doc;
    const path = await discoveryCachePath(this.client.baseUrl, this.options.env);
    const cached = await this.#readCache(path);
    const now = this.options.now?.() ?? Date.now();
    if (cached && now - Date.parse(cached.fetchedAt) < (this.options.ttlMs ?? DISCOVERY_TTL_MS)) {
      this.#doc = cached;
      return cached;
    }
    return await this.refresh();
  }

  /** Fetches discovery from the server and rewrites the cache. */
  async refresh(): Promise<DiscoveryDocument> {
    const doc = await fetchDiscovery(this.client);
    this.#doc = doc;
    this.#fresh = true;
    const path = await discoveryCachePath(this.client.baseUrl, this.options.env);
    // The cache is an optimisation: a read-only cache dir must not fail the command.
    await writePrivateFile(path, JSON.stringify(doc)).catch(() => {});
    return doc;
  }

  async #readCache(path: string): Promise<DiscoveryDocument | undefined> {
    try {
      const text = await readTextIfExists(path);
      if (!text) return undefined;
      const doc = JSON.parse(text) as DiscoveryDocument;
      if (!Array.isArray(doc.resources) || typeof doc.fetchedAt !== "string") return undefined;
      return doc;
    } catch {
      return undefined;
    }
  }

  /**
   * Resolves what the user typed to one type; on a miss in a cached document, refetches once
   * before failing with a "did you mean" hint.
   */
  async resolve(input: string): Promise<ResourceType> {
    const doc = await this.document();
    try {
      return resolveTypeIn(doc.resources, input);
    } catch (err) {
      if (this.#fresh || !(err instanceof CliError) || err.code !== "UNKNOWN_RESOURCE_TYPE") {
        throw err;
      }
      return resolveTypeIn((await this.refresh()).resources, input);
    }
  }

  /** The type of a manifest's `apiVersion` + `kind` (refetching once on a miss). */
  async resolveKind(apiVersion: string, kind: string): Promise<ResourceType> {
    const find = (doc: DiscoveryDocument) => findByKind(doc.resources, apiVersion, kind);
    const found = find(await this.document()) ??
      (this.#fresh ? undefined : find(await this.refresh()));
    if (found) return found;
    throw new CliError(
      "UNKNOWN_KIND",
      `the server does not serve kind "${kind}" in version "${apiVersion}"`,
      {
        hint:
          "Check apiVersion and kind; 'datumctl api-resources' lists what this control plane serves.",
        exitCode: ExitCode.error,
      },
    );
  }
}

function findByKind(
  resources: ResourceType[],
  apiVersion: string,
  kind: string,
): ResourceType | undefined {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return resources.find((r) => r.group === group && r.version === version && r.kind === kind);
}

export { editDistance };

function namesOf(r: ResourceType): string[] {
  return [r.plural, r.singular, r.kind.toLowerCase(), ...r.shortNames.map((s) => s.toLowerCase())];
}

function groupMatches(group: string, qualifier: string): boolean {
  // `networking` stands for `networking.datumapis.com`, as result lines print it.
  return group === qualifier || group.startsWith(`${qualifier}.`);
}

/** The closest type name to `word` within a small edit distance, if any. */
export function suggestType(resources: ResourceType[], word: string): string | undefined {
  const target = word.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const r of resources) {
    for (const name of [r.plural, r.singular, ...r.shortNames]) {
      const distance = editDistance(target, name.toLowerCase());
      if (!best || distance < best.distance) best = { name, distance };
    }
  }
  if (!best) return undefined;
  const limit = Math.max(2, Math.floor(target.length / 3));
  return best.distance <= limit ? best.name : undefined;
}

function unknownType(resources: ResourceType[], input: string, word: string): CliError {
  const suggestion = suggestType(resources, word);
  return new CliError(
    "UNKNOWN_RESOURCE_TYPE",
    `the server doesn't have a resource type "${input}"`,
    {
      hint: suggestion
        ? `Did you mean "${suggestion}"? Run 'datumctl api-resources' to list the types.`
        : "Run 'datumctl api-resources' to list the types this control plane serves.",
      exitCode: ExitCode.error,
    },
  );
}

/**
 * The type asked for in a version (or group) the server does not serve it in: name the
 * group/version(s) it is served in, rather than suggesting the bare name as if it were a typo.
 */
function otherVersionsOf(
  resources: ResourceType[],
  group: string,
  version: string,
  name: string,
): CliError | undefined {
  const named = resources.filter((r) => namesOf(r).includes(name));
  const inGroup = named.filter((r) => r.group === group);
  const served = inGroup.length > 0 ? inGroup : named;
  if (served.length === 0) return undefined;
  const versions = [...new Set(served.map((r) => r.group ? `${r.group}/${r.version}` : r.version))];
  const asked = group ? `${group}/${version}` : version;
  return new CliError(
    "UNKNOWN_RESOURCE_TYPE",
    `the server doesn't serve ${served[0].plural} in ${asked}: it serves ${served[0].plural} in ${
      versions.join(", ")
    }`,
    {
      hint: `Use ${versions[0]}, or leave the version out.`,
      exitCode: ExitCode.error,
    },
  );
}

/** Prefers the preferred version, then the order discovery listed them in. */
function pickOne(matches: ResourceType[], input: string): ResourceType | undefined {
  if (matches.length === 0) return undefined;
  const groups = new Set(matches.map((m) => m.group));
  if (groups.size > 1) {
    const options = [...groups].map((g) => `${matches.find((m) => m.group === g)!.plural}.${g}`);
    throw new CliError(
      "AMBIGUOUS_RESOURCE_TYPE",
      `"${input}" names types in several API groups: ${options.join(", ")}`,
      { hint: `Qualify it with the group, e.g. ${options[0]}.`, exitCode: ExitCode.usage },
    );
  }
  return matches.find((m) => m.preferred) ?? matches[0];
}

/**
 * Resolves a type name against discovered resources: exact plural/singular/short name/kind
 * (case-insensitive), then `TYPE.group` (group or its leading labels), `TYPE.version.group` and
 * `group/version/TYPE`. Throws `UNKNOWN_RESOURCE_TYPE` with a suggestion when nothing matches.
 */
export function resolveTypeIn(resources: ResourceType[], input: string): ResourceType {
  const raw = input.trim();
  const parts = raw.split("/");
  if (parts.length === 3 || (parts.length === 2 && /^v\d/.test(parts[0]))) {
    const [group, version, name] = parts.length === 3 ? parts : ["", parts[0], parts[1]];
    const lower = name.toLowerCase();
    const found = resources.find((r) =>
      r.group === group && r.version === version && namesOf(r).includes(lower)
    );
    if (found) return found;
    throw otherVersionsOf(resources, group, version, lower) ??
      unknownType(resources, raw, name);
  }

  const lower = raw.toLowerCase();
  const exact = pickOne(resources.filter((r) => namesOf(r).includes(lower)), raw);
  if (exact) return exact;

  const dot = lower.indexOf(".");
  if (dot > 0) {
    const word = lower.slice(0, dot);
    const rest = lower.slice(dot + 1);
    const named = resources.filter((r) => namesOf(r).includes(word));
    // TYPE.version.group
    const restDot = rest.indexOf(".");
    if (restDot > 0) {
      const version = rest.slice(0, restDot);
      const group = rest.slice(restDot + 1);
      const versioned = named.find((r) => r.version === version && r.group === group);
      if (versioned) return versioned;
    }
    // TYPE.group (full group or its leading labels)
    const grouped = pickOne(named.filter((r) => groupMatches(r.group, rest)), raw);
    if (grouped) return grouped;
    throw unknownType(resources, raw, word);
  }
  throw unknownType(resources, raw, lower);
}
