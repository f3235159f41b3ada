/**
 * `<repo>/state.yml`, the local tunnel allowlist in datum-connect's format, shared with the
 * desktop app:
 * `proxies: [{info: {resource_id, label, data: {host, port}}, enabled}]`.
 *
 * Every change locks, re-reads and writes atomically; keys we do not know are kept, and a file that
 * does not parse is reported (path and line), never overwritten.
 */
import { isMap, isSeq, parseDocument, stringify } from "yaml";
import { CliError, ExitCode } from "../core/errors.ts";
import { readTextIfExists, withFileLock, writePrivateFile } from "../store/files.ts";
import type { Target } from "./endpoint.ts";

/** One tunnel the local agent may forward to. */
export interface TunnelEntry {
  /** The tunnel id (HTTPProxy name). */
  id: string;
  label: string;
  target: Target;
  enabled: boolean;
}

interface RawEntry {
  info?: {
    resource_id?: string;
    label?: string;
    data?: { host?: string; port?: number; [k: string]: unknown };
    [k: string]: unknown;
  };
  enabled?: boolean;
  [k: string]: unknown;
}

interface RawState {
  proxies?: RawEntry[];
  [k: string]: unknown;
}

/** `<repo>/state.yml`. */
export function tunnelStatePath(repo: string): string {
  return `${repo}/state.yml`;
}

async function readRaw(path: string): Promise<RawState> {
  const text = await readTextIfExists(path);
  if (text === undefined || text.trim() === "") return {};
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? lineOf(text, e.pos[0]);
    throw unreadable(path, line, e.message.split("\n")[0]);
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value) || (value.proxies !== undefined && !Array.isArray(value.proxies))) {
    const contents = doc.contents;
    const proxiesNode = isMap(contents) ? contents.get("proxies", true) : undefined;
    const line = proxiesNode && !isSeq(proxiesNode) && proxiesNode.range
      ? lineOf(text, proxiesNode.range[0])
      : 1;
    throw unreadable(path, line, "expected `proxies:` to be a list");
  }
  return value as RawState;
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function unreadable(path: string, line: number | undefined, why: string): CliError {
  return new CliError(
    "TUNNEL_STATE_INVALID",
    `cannot read ${path}${line ? ` line ${line}` : ""}: ${why}`,
    {
      hint: "Fix or move the file; datumctl does not overwrite a file it cannot read.",
      exitCode: ExitCode.dataError,
    },
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toEntry(raw: RawEntry): TunnelEntry | undefined {
  const id = raw.info?.resource_id;
  const host = raw.info?.data?.host;
  const port = raw.info?.data?.port;
  if (typeof id !== "string" || typeof host !== "string" || typeof port !== "number") {
    return undefined;
  }
  return {
    id,
    label: typeof raw.info?.label === "string" ? raw.info.label : "",
    target: { host, port },
    enabled: raw.enabled === true,
  };
}

/** The entries of `state.yml` (none when it does not exist). */
export async function readTunnelState(repo: string): Promise<TunnelEntry[]> {
  const raw = await readRaw(tunnelStatePath(repo));
  return (raw.proxies ?? []).map(toEntry).filter((e): e is TunnelEntry => e !== undefined);
}

async function update(repo: string, change: (proxies: RawEntry[]) => RawEntry[]): Promise<void> {
  const path = tunnelStatePath(repo);
  await withFileLock(path, async () => {
    const raw = await readRaw(path);
    const before = raw.proxies ?? [];
    const proxies = change([...before]);
    if (JSON.stringify(proxies) === JSON.stringify(before)) return;
    await writePrivateFile(path, stringify({ ...raw, proxies }, { lineWidth: 0 }));
  });
}

/** Adds or replaces the entry of `entry.id`, keeping fields we do not know. */
export async function upsertTunnelEntry(repo: string, entry: TunnelEntry): Promise<void> {
  await update(repo, (proxies) => {
    const i = proxies.findIndex((p) => p.info?.resource_id === entry.id);
    const old = i >= 0 ? proxies[i] : {};
    const next: RawEntry = {
      ...old,
      info: {
        ...(old.info ?? {}),
        resource_id: entry.id,
        label: entry.label,
        data: { ...(old.info?.data ?? {}), host: entry.target.host, port: entry.target.port },
      },
      enabled: entry.enabled,
    };
    if (i >= 0) proxies[i] = next;
    else proxies.push(next);
    return proxies;
  });
}

/** Flips `enabled` on an existing entry; returns false when there is none. */
export async function setTunnelEntryEnabled(
  repo: string,
  id: string,
  enabled: boolean,
): Promise<boolean> {
  let found = false;
  await update(repo, (proxies) =>
    proxies.map((p) => {
      if (p.info?.resource_id !== id) return p;
      found = true;
      return { ...p, enabled };
    }));
  return found;
}

/** Removes the entry of `id` when present. */
export async function removeTunnelEntry(repo: string, id: string): Promise<void> {
  await update(repo, (proxies) => proxies.filter((p) => p.info?.resource_id !== id));
}
