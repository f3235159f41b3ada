/**
 * The persisted definition of an installed tunnel service: one YAML file per named tunnel at
 * `~/.datumctl/services/<name>.yaml`, written by `tunnel install` and read by `tunnel run`, so
 * the unit itself only says `tunnel run --name N` and everything else lives in one place a
 * person can read.
 *
 * A file that does not parse is reported with its path and line (exit 65) and never overwritten.
 */
import { parseDocument, stringify } from "yaml";
import { readTextIfExists, writePrivateFile } from "../../store/files.ts";
import { datumctlDir } from "../../store/paths.ts";
import { CliError, ExitCode } from "../../core/errors.ts";
import { isEndpointId } from "../peer-ids.ts";
import { checkTunnelName } from "../keys.ts";

/** Who runs the service: the user's own service manager, or the system's (root). */
export type ServiceScope = "user" | "system";

/** What `tunnel run --name N` serves, as stored in `services/<name>.yaml`. */
export interface ServiceDefinition {
  name: string;
  /** The tunnel's label (the endpoint when none was given). */
  label: string;
  /** The local service, as given to `install` (normalized by the tunnel code when served). */
  endpoint: string;
  project: string;
  /** The stored session whose credentials the service uses. */
  session: string;
  /** The project's organization, when the discovery cache knew it at install time. */
  org?: string;
  /** The API host of the session (e.g. `api.datum.net`), for people and sanity checks. */
  api_host: string;
  scope: ServiceScope;
  /** RFC 3339 instant of the install. */
  created_at: string;
  /** The identity (email) of the session at install time. */
  created_by: string;
  /** Serve the request inspector: `on` (127.0.0.1:4040) or a loopback address. */
  inspect?: string;
  /**
   * `--allow-peer` ids given to `install` (64 lowercase hex each): the only iroh peers the
   * service serves. Absent: every peer, as `listen` without the flag.
   */
  allow_peers?: string[];
}

const REQUIRED = ["name", "label", "endpoint", "project", "session", "api_host", "scope"] as const;

/** `~/.datumctl/services`. */
export function servicesDir(env: (name: string) => string | undefined = Deno.env.get): string {
  return `${datumctlDir(env)}/services`;
}

/** `~/.datumctl/services/<name>.yaml`, after checking `name` is a valid tunnel name. */
export function serviceDefinitionPath(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): string {
  checkTunnelName(name);
  return `${servicesDir(env)}/${name}.yaml`;
}

function malformed(path: string, detail: string, line?: number): CliError {
  return new CliError(
    "SERVICE_DEFINITION_INVALID",
    `cannot read the tunnel service definition ${path}${line ? ` (line ${line})` : ""}: ${detail}`,
    {
      hint: `Fix the file, or remove it and run 'datumctl tunnel install' again; datumctl never ` +
        `overwrites a file it cannot read.`,
      exitCode: ExitCode.dataError,
    },
  );
}

/** Parses a definition's text; `path` names the file in errors (exit 65 when malformed). */
export function parseServiceDefinition(text: string, path: string): ServiceDefinition {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw malformed(path, first.message.split("\n")[0], first.linePos?.[0]?.line);
  }
  const value = doc.toJS() as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw malformed(path, "expected a mapping of keys to values");
  }
  const raw = value as Record<string, unknown>;
  for (const key of REQUIRED) {
    if (typeof raw[key] !== "string" || (raw[key] as string).trim() === "") {
      throw malformed(path, `"${key}" is missing or not a string`);
    }
  }
  if (raw.scope !== "user" && raw.scope !== "system") {
    throw malformed(path, `"scope" must be user or system, not "${raw.scope}"`);
  }
  const optional = (key: string) => typeof raw[key] === "string" ? raw[key] as string : undefined;
  const peers = raw.allow_peers;
  if (
    peers !== undefined && peers !== null &&
    (!Array.isArray(peers) ||
      peers.some((p) => typeof p !== "string" || !/^[0-9a-f]{64}$/.test(p) || !isEndpointId(p)))
  ) {
    // A list we cannot read must not widen to "every peer".
    throw malformed(
      path,
      `"allow_peers" must be a list of iroh endpoint ids (64 lowercase hex each)`,
    );
  }
  return {
    name: raw.name as string,
    label: raw.label as string,
    endpoint: raw.endpoint as string,
    project: raw.project as string,
    session: raw.session as string,
    org: optional("org"),
    api_host: raw.api_host as string,
    scope: raw.scope,
    created_at: optional("created_at") ?? "",
    created_by: optional("created_by") ?? "",
    ...(optional("inspect") !== undefined ? { inspect: optional("inspect") } : {}),
    ...(Array.isArray(peers) && peers.length > 0 ? { allow_peers: peers as string[] } : {}),
  };
}

/** The file text of a definition (keys in a fixed, readable order; no empty optional keys). */
export function serializeServiceDefinition(definition: ServiceDefinition): string {
  const ordered: Record<string, string | string[]> = {};
  const keys: (keyof ServiceDefinition)[] = [
    "name",
    "label",
    "endpoint",
    "project",
    "session",
    "org",
    "api_host",
    "scope",
    "created_at",
    "created_by",
    "inspect",
    "allow_peers",
  ];
  for (const key of keys) {
    const value = definition[key];
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) {
      continue;
    }
    ordered[key] = value;
  }
  return "# datumctl tunnel service; written by 'datumctl tunnel install'\n" +
    stringify(ordered, { lineWidth: 0 });
}

/** The definition of service `name`, or `undefined` when none is installed. */
export async function readServiceDefinition(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<ServiceDefinition | undefined> {
  const path = serviceDefinitionPath(name, env);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  const definition = parseServiceDefinition(text, path);
  if (definition.name !== name) {
    throw malformed(path, `its name is "${definition.name}", not "${name}"`);
  }
  return definition;
}

/** Every installed definition, sorted by name (a malformed file throws, naming it). */
export async function listServiceDefinitions(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<ServiceDefinition[]> {
  const dir = servicesDir(env);
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".yaml")) names.push(entry.name.slice(0, -5));
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const found: ServiceDefinition[] = [];
  for (const name of names.sort()) {
    const path = `${dir}/${name}.yaml`;
    const text = await readTextIfExists(path);
    if (text !== undefined) found.push(parseServiceDefinition(text, path));
  }
  return found;
}

/** Writes the definition atomically (0600); returns its path. */
export async function writeServiceDefinition(
  definition: ServiceDefinition,
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<string> {
  const path = serviceDefinitionPath(definition.name, env);
  await writePrivateFile(path, serializeServiceDefinition(definition));
  return path;
}

/** Removes the definition of `name`; true when there was one. */
export async function removeServiceDefinition(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<boolean> {
  try {
    await Deno.remove(serviceDefinitionPath(name, env));
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
