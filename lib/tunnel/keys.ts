/**
 * The tunnel agent's iroh identity: one 32-byte Ed25519 secret key per project, at datum-connect's
 * path `<repo>/projects/<project id>/listen_key`, so two projects never share a public key (the
 * operator would mark the second Connector `DeferredToOwner`).
 *
 * The legacy flat `<repo>/listen_key` is moved once into the first project's folder, so that
 * project keeps its Connector. `tunnel list` reads keys without creating them, and the 64-hex
 * endpoint id is computed without loading the engine. The repo is `--repo`, else
 * `DATUM_CONNECT_REPO`, else the default; a `--name N` tunnel has its own folder under
 * `$XDG_DATA_HOME/datumctl/connect/`, so two named tunnels never share an identity.
 */
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { connectDir, connectRepoDir } from "../store/paths.ts";
import { withFileLock, writePrivateFile } from "../store/files.ts";

const SECRET_KEY_LENGTH = 32;

/** The data folder shared with datum-connect: `--repo`, else `$DATUM_CONNECT_REPO`, else the default. */
export function connectRepo(
  flag: string | undefined,
  env: (name: string) => string | undefined = Deno.env.get,
): string {
  const chosen = flag?.trim() ? flag.trim() : connectRepoDir(env);
  return chosen.replace(/\/+$/, "") || "/";
}

const TUNNEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `<connect dir>/<name>`: a named tunnel's own data folder (its `projects/<pid>/listen_key`,
 * `state.yml`, listener lock, PID file and logs), after checking `name` is a DNS label
 * (lowercase letters, digits and inner dashes, at most 63 characters) so it is a safe single
 * path segment and a valid unit name.
 */
export function namedTunnelDir(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): string {
  checkTunnelName(name);
  const root = connectDir(env);
  return `${root === "/" ? "" : root}/${name}`;
}

/** Whether `name` is a valid tunnel name (see {@link namedTunnelDir}). */
export function isTunnelName(name: string): boolean {
  return TUNNEL_NAME.test(name);
}

/** Throws a usage error unless `name` is a valid tunnel name (see {@link namedTunnelDir}). */
export function checkTunnelName(name: string): void {
  if (!isTunnelName(name)) {
    throw new UsageError(
      `"${name}" is not a valid tunnel name`,
      "Use 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. --name ollama).",
    );
  }
}

/** `<repo>/projects/<projectId>/listen_key`. */
export function listenKeyPath(repo: string, projectId: string): string {
  return `${repo}/projects/${safeProjectId(projectId)}/listen_key`;
}

/** `<repo>/listen_key`, the flat key of datum-connect before per-project keys. */
export function legacyListenKeyPath(repo: string): string {
  return `${repo}/listen_key`;
}

/** What {@link loadOrCreateListenKey} found. */
export interface ListenKey {
  secret: Uint8Array;
  path: string;
  /** How the key came to be at `path` on this call. */
  origin: "existing" | "migrated" | "created";
}

/**
 * The project's secret key: read it, else move the legacy flat key there (once), else create a
 * fresh random one. Serialized by a lock so two processes never create two keys.
 */
export async function loadOrCreateListenKey(repo: string, projectId: string): Promise<ListenKey> {
  const path = listenKeyPath(repo, projectId);
  return await withFileLock(`${repo}/listen_key`, async () => {
    const existing = await readKeyFile(path);
    if (existing) return { secret: existing, path, origin: "existing" as const };
    const legacyPath = legacyListenKeyPath(repo);
    const legacy = await readKeyFile(legacyPath);
    if (legacy) {
      await writePrivateFile(path, legacy);
      await Deno.remove(legacyPath);
      return { secret: legacy, path, origin: "migrated" as const };
    }
    const secret = crypto.getRandomValues(new Uint8Array(SECRET_KEY_LENGTH));
    await writePrivateFile(path, secret);
    return { secret, path, origin: "created" as const };
  });
}

/**
 * The project's key without creating or moving anything (for read-only commands); the legacy
 * flat key counts, since the next `listen` will move it there.
 */
export async function readListenKey(
  repo: string,
  projectId: string,
): Promise<Uint8Array | undefined> {
  return (await readKeyFile(listenKeyPath(repo, projectId))) ??
    (await readKeyFile(legacyListenKeyPath(repo)));
}

async function readKeyFile(path: string): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  if (bytes.length !== SECRET_KEY_LENGTH) {
    throw new CliError(
      "TUNNEL_KEY_INVALID",
      `${path} is not a tunnel key (${bytes.length} bytes; expected ${SECRET_KEY_LENGTH})`,
      {
        hint: `Move it away to start with a fresh identity (the tunnel's Connector changes).`,
        exitCode: ExitCode.dataError,
      },
    );
  }
  return bytes;
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410), so WebCrypto can derive the public key.
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** The iroh endpoint id of a secret key: its Ed25519 public key as 64 lowercase hex characters. */
export async function endpointIdFromSecret(secret: Uint8Array): Promise<string> {
  if (secret.length !== SECRET_KEY_LENGTH) throw new Error("an iroh secret key has 32 bytes");
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + SECRET_KEY_LENGTH);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(secret, PKCS8_ED25519_PREFIX.length);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const raw = atob(jwk.x!.replace(/-/g, "+").replace(/_/g, "/"));
  return [...raw].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
}

function safeProjectId(projectId: string): string {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(projectId)) {
    throw new CliError("TUNNEL_PROJECT_INVALID", `"${projectId}" is not a valid project id`, {
      exitCode: ExitCode.usage,
    });
  }
  return projectId;
}
