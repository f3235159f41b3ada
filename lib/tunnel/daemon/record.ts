/**
 * What a named tunnel's process leaves in its folder so other commands can see it: the PID file
 * (`tunnel.pid`: pid, start token, mode) and the status file (`status.json`: the last known
 * state, kept up to date from the tunnel's events), plus the log path. `tunnel ps`, `status`,
 * `stop` and `logs` read them; nothing here trusts a PID without checking its start time.
 *
 * The records cover both named tunnels (their own folder, lock, PID file and status) and unnamed
 * foreground `tunnel listen` runs (a per-process folder removed on exit), so `tunnel ps` sees both.
 */
import { ensurePrivateDir, readTextIfExists, writePrivateFile } from "../../store/files.ts";
import { connectDir } from "../../store/paths.ts";
import { CliError, ExitCode } from "../../core/errors.ts";
import type { TunnelEvent } from "../events.ts";
import { isTunnelName, namedTunnelDir } from "../keys.ts";
import { isSameProcessAlive, processStartToken } from "./process.ts";

/** How the tunnel's process was started. */
export type RunMode = "foreground" | "detached" | "service";

/** The files of one named tunnel. */
export interface NamedTunnelFiles {
  dir: string;
  pid: string;
  status: string;
  log: string;
}

/** The files of named tunnel `name` (the name is checked). */
export function namedTunnelFiles(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): NamedTunnelFiles {
  const dir = namedTunnelDir(name, env);
  return {
    dir,
    pid: `${dir}/tunnel.pid`,
    status: `${dir}/status.json`,
    log: `${dir}/logs/tunnel.log`,
  };
}

/** `tunnel.pid`. */
export interface PidRecord {
  pid: number;
  /** The process's start token (see process.ts), so a reused PID is not mistaken for it. */
  start: string;
  mode: RunMode;
  started_at: string;
}

/** The state a tunnel process reports. */
export type TunnelRunState =
  | "starting"
  | "ready"
  | "degraded"
  | "stopping"
  | "stopped"
  | "failed";

/** `status.json`. */
export interface TunnelStatusRecord {
  /** The tunnel's name; absent for an unnamed foreground `tunnel listen`. */
  name?: string;
  mode: RunMode;
  pid: number;
  project?: string;
  endpoint?: string;
  label?: string;
  tunnel_id?: string;
  hostname?: string;
  url?: string;
  endpoint_id?: string;
  state: TunnelRunState;
  path?: "direct" | "relay" | "none";
  remote_addr?: string;
  requests_total?: number;
  started_at: string;
  ready_at?: string;
  stopped_at?: string;
  updated_at: string;
  /** Why the state is `degraded` (what the heartbeat or the public-URL check saw). */
  degraded_reason?: string;
  last_warning?: { code: string; message: string };
  last_error?: { code: string; message: string; hint?: string; exit_code: number };
  exit_code?: number;
}

/**
 * Takes named tunnel `name`'s process lock (`tunnel.lock`, held until the file is closed), or
 * throws the name conflict (64) naming the process that holds it.
 */
export async function lockNamedTunnel(files: NamedTunnelFiles, name: string): Promise<Deno.FsFile> {
  await ensurePrivateDir(files.dir);
  const file = await Deno.open(`${files.dir}/tunnel.lock`, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
  if (await file.tryLock(true)) return file;
  file.close();
  const holder = await readJson<PidRecord>(files.pid).catch(() => undefined);
  throw new CliError(
    "TUNNEL_LISTENER_RUNNING",
    `named tunnel ${name} is already being served on this machine${
      holder ? ` (pid ${holder.pid}, ${holder.mode})` : ""
    }`,
    {
      hint:
        `Each name has one iroh identity, served by one process. Stop it first ('datumctl tunnel stop --name ${name}'), or pick another --name.`,
      exitCode: ExitCode.rejected,
    },
  );
}

/** Writes this process's PID file. */
export async function writePidRecord(files: NamedTunnelFiles, mode: RunMode): Promise<PidRecord> {
  const record: PidRecord = {
    pid: Deno.pid,
    start: (await processStartToken(Deno.pid)) ?? "",
    mode,
    started_at: new Date().toISOString(),
  };
  await writePrivateFile(files.pid, JSON.stringify(record) + "\n");
  return record;
}

/** Removes the PID file when it is still this process's. */
export async function removePidRecord(files: NamedTunnelFiles, pid: number = Deno.pid) {
  const current = await readJson<PidRecord>(files.pid).catch(() => undefined);
  if (current?.pid === pid) await Deno.remove(files.pid).catch(() => {});
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError("TUNNEL_RECORD_INVALID", `cannot read ${path}: it is not JSON`, {
      hint: "Remove it; the tunnel process writes it again when it starts.",
      exitCode: ExitCode.dataError,
    });
  }
}

/**
 * Keeps `status.json` in step with the tunnel's events. Writes are atomic and serialized; a
 * failed write never disturbs the tunnel (the next event writes again).
 */
export class StatusRecorder {
  readonly #path: string;
  #record: TunnelStatusRecord;
  #chain: Promise<void> = Promise.resolve();
  #lastStatsWrite = 0;

  constructor(
    files: NamedTunnelFiles,
    init: Pick<TunnelStatusRecord, "name" | "mode"> & {
      project?: string;
      endpoint?: string;
      label?: string;
    },
  ) {
    this.#path = files.status;
    const now = new Date().toISOString();
    this.#record = {
      ...init,
      pid: Deno.pid,
      state: "starting",
      started_at: now,
      updated_at: now,
    };
  }

  /** The record as last updated. */
  get record(): TunnelStatusRecord {
    return this.#record;
  }

  /** Applies one event; writes the file unless nothing worth saving changed. */
  apply(event: TunnelEvent): void {
    const r = { ...this.#record };
    switch (event.type) {
      case "identity":
        r.endpoint_id = event.endpoint_id;
        r.project = event.project;
        break;
      case "tunnel":
        r.tunnel_id = event.id;
        r.label = event.label;
        r.endpoint = event.endpoint;
        r.hostname = event.hostnames[0] ?? r.hostname;
        break;
      case "ready":
        r.state = "ready";
        r.tunnel_id = event.id;
        r.label = event.label;
        r.endpoint = event.endpoint;
        r.url = event.url;
        r.hostname = event.hostnames[0] ?? r.hostname;
        r.ready_at = new Date().toISOString();
        break;
      case "path":
        r.path = event.path;
        r.remote_addr = event.remote_addr;
        break;
      case "phase":
        if (event.phase === "disabling") r.state = "stopping";
        break;
      case "warning":
        r.last_warning = { code: event.code, message: event.message };
        // After ready the state follows the heartbeat and the public-URL check.
        if (event.code === "tunnel_degraded" && (r.state === "ready" || r.state === "degraded")) {
          r.state = "degraded";
          r.degraded_reason = event.message;
        } else if (event.code === "tunnel_recovered" && r.state === "degraded") {
          r.state = "ready";
          delete r.degraded_reason;
        }
        break;
      case "error":
        r.last_error = {
          code: event.code,
          message: event.message,
          hint: event.hint,
          exit_code: event.exit_code,
        };
        break;
      case "stopped":
        r.state = event.exit_code === 0 ? "stopped" : "failed";
        r.exit_code = event.exit_code;
        r.stopped_at = new Date().toISOString();
        break;
      case "stats": {
        if (r.requests_total === event.requests_total) return;
        r.requests_total = event.requests_total;
        // Counters change often: saved at most every 2 s.
        if (Date.now() - this.#lastStatsWrite < 2_000) {
          this.#record = r;
          return;
        }
        this.#lastStatsWrite = Date.now();
        break;
      }
      default:
        return;
    }
    r.updated_at = new Date().toISOString();
    this.#record = r;
    this.#save();
  }

  #save(): void {
    const text = JSON.stringify(this.#record, null, 2) + "\n";
    this.#chain = this.#chain.then(() => writePrivateFile(this.#path, text)).catch(() => {});
  }

  /** Waits for pending writes. */
  async flush(): Promise<void> {
    await this.#chain;
  }
}

/** Marks the status file stopped (after cleaning up a dead process), keeping what it knew. */
export async function markStopped(files: NamedTunnelFiles, why: string): Promise<void> {
  const status = await readJson<TunnelStatusRecord>(files.status).catch(() => undefined);
  if (!status) return;
  const now = new Date().toISOString();
  await writePrivateFile(
    files.status,
    JSON.stringify(
      {
        ...status,
        state: "stopped",
        stopped_at: now,
        updated_at: now,
        last_warning: { code: "cleaned_up", message: why },
      },
      null,
      2,
    ) + "\n",
  );
}

/** What `ps`/`status` know about one named tunnel. */
export interface NamedTunnelView {
  /** The tunnel's name; `""` for an unnamed foreground listen (see {@link unnamed}). */
  name: string;
  /** An unnamed foreground `tunnel listen` (found by {@link listUnnamedTunnels}). */
  unnamed?: true;
  files: NamedTunnelFiles;
  /**
   * `running` (its process is alive: see `status.state` for starting/ready/stopping), `dead`
   * (a PID file whose process is gone: it did not stop cleanly), `stopped` (stopped cleanly or
   * failed and exited) or `new` (never run).
   */
  process: "running" | "dead" | "stopped" | "new";
  pid?: PidRecord;
  status?: TunnelStatusRecord;
}

/** Reads a named tunnel's PID and status files and checks its process. */
export async function inspectNamedTunnel(
  name: string,
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<NamedTunnelView> {
  const files = namedTunnelFiles(name, env);
  const [pid, status] = await Promise.all([
    readJson<PidRecord>(files.pid),
    readJson<TunnelStatusRecord>(files.status),
  ]);
  if (pid) {
    const alive = await isSameProcessAlive(pid.pid, pid.start);
    return { name, files, pid, status, process: alive ? "running" : "dead" };
  }
  return { name, files, status, process: status ? "stopped" : "new" };
}

/** The names with a folder under the connect dir, sorted. */
export async function listNamedTunnelNames(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(connectDir(env))) {
      if (entry.isDirectory && isTunnelName(entry.name)) {
        names.push(entry.name);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names.sort();
}

/**
 * Where an unnamed foreground `tunnel listen` (process `pid`) keeps its PID and status files, so
 * `tunnel ps` lists it too: `<connect dir>/.unnamed/<pid>/` (a dot name is never a tunnel name).
 * It has no log of its own: its events go to its terminal.
 */
export function unnamedTunnelFiles(
  pid: number,
  env: (name: string) => string | undefined = Deno.env.get,
): NamedTunnelFiles {
  const dir = `${connectDir(env)}/.unnamed/${pid}`;
  return { dir, pid: `${dir}/tunnel.pid`, status: `${dir}/status.json`, log: `${dir}/tunnel.log` };
}

/**
 * Starts this process's unnamed-listen records (its PID file), first removing the folders of
 * unnamed listens whose process is gone (killed without cleaning up).
 */
export async function openUnnamedRecord(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<NamedTunnelFiles> {
  for (const view of await readUnnamedViews(env)) {
    if (view.process === "dead") await removeUnnamedRecord(view.files);
  }
  const files = unnamedTunnelFiles(Deno.pid, env);
  await ensurePrivateDir(files.dir);
  await writePidRecord(files, "foreground");
  return files;
}

/** Removes an unnamed listen's folder (when it stops). */
export async function removeUnnamedRecord(files: NamedTunnelFiles): Promise<void> {
  await Deno.remove(files.dir, { recursive: true }).catch(() => {});
}

/** The unnamed foreground listens running now, oldest first. */
export async function listUnnamedTunnels(
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<NamedTunnelView[]> {
  return (await readUnnamedViews(env))
    .filter((v) => v.process === "running")
    .sort((a, b) => (a.pid?.started_at ?? "").localeCompare(b.pid?.started_at ?? ""));
}

async function readUnnamedViews(
  env: (name: string) => string | undefined,
): Promise<NamedTunnelView[]> {
  const pids: number[] = [];
  try {
    for await (const entry of Deno.readDir(`${connectDir(env)}/.unnamed`)) {
      if (entry.isDirectory && /^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return await Promise.all(pids.map(async (n): Promise<NamedTunnelView> => {
    const files = unnamedTunnelFiles(n, env);
    // A half-written or foreign file is not worth failing `ps` over: it reads as gone.
    const [pid, status] = await Promise.all([
      readJson<PidRecord>(files.pid).catch(() => undefined),
      readJson<TunnelStatusRecord>(files.status).catch(() => undefined),
    ]);
    // No PID file yet: a listen starting right now (mkdir comes first), not a dead one.
    const process = pid === undefined
      ? "new"
      : await isSameProcessAlive(pid.pid, pid.start)
      ? "running"
      : "dead";
    return { name: "", unnamed: true, files, pid, status, process };
  }));
}
