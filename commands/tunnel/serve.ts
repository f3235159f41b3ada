/**
 * Serving one tunnel in this process — the body shared by `tunnel listen` (foreground, or the
 * detached daemon it starts) and `tunnel run` (a system service): scope, signals, the lifecycle
 * of lib/tunnel/listen.ts, and where its events go. A foreground run renders them for people (or
 * as JSON lines with `-o json`); a named tunnel also records its PID, status and a rotated JSON
 * log in its folder, which is what `tunnel ps`, `status`, `stop` and `logs` read.
 *
 * Exports {@link serveTunnel} and {@link ServeRequest}. Heavy modules are imported inside.
 */
import type { Command } from "commander";
import { type CommandContext, scopeInputs } from "../command-context.ts";
import { onStopSignal } from "../../lib/process/signals.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import type { IO } from "../../lib/core/io.ts";
import type { TunnelEvent } from "../../lib/tunnel/events.ts";
import type { RunMode } from "../../lib/tunnel/daemon/record.ts";
import type { InspectSettings } from "../../lib/tunnel/inspector/address.ts";

/** What to serve, and how this process runs. */
export interface ServeRequest {
  endpoint?: string;
  /** `--allow-peer` ids (DATUMCTL_TUNNEL_ALLOWED_PEERS adds to them). */
  allowPeer?: string[];
  id?: string;
  label?: string;
  /** A named tunnel: its own identity and folder, with PID/status/log records. */
  name?: string;
  /** The setup budget (`10m` when unset). */
  timeout?: string;
  yes?: boolean;
  /** JSON event lines on stdout instead of the human rendering. */
  json: boolean;
  /** Pin the project and session (a service's definition does); else the scope rule decides. */
  project?: string;
  session?: string;
  /** `detached`: no terminal at all, events only to the log. `service`: JSON lines + log. */
  mode: RunMode;
  /** Serve the request inspector (`--inspect`). */
  inspect?: InspectSettings;
  /** The scope a parent process resolved (`listen --detach`): used as is, not resolved again. */
  resolved?: { projectId: string; session?: string; repo: string };
}

/** `--allow-peer` values and the comma-separated env list, checked and lowercased. */
function allowedPeers(flags: string[] = [], env: string | undefined): string[] {
  const ids = [...flags, ...(env ?? "").split(",")].map((id) => id.trim()).filter((id) =>
    id !== ""
  );
  for (const id of ids) {
    if (!/^[0-9a-fA-F]{64}$/.test(id)) {
      throw new UsageError(
        `invalid peer id "${id}" for --allow-peer (or DATUMCTL_TUNNEL_ALLOWED_PEERS)`,
        "A peer is an iroh endpoint id: 64 hex characters, as the 'path' events and the local stack's ready line show.",
      );
    }
  }
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}

/** Serves until stopped; throws the `CliError` that ended it (exit codes as `tunnel --help`). */
export async function serveTunnel(
  ctx: CommandContext,
  cmd: Command,
  request: ServeRequest,
): Promise<void> {
  const io = ctx.io;
  if (request.mode !== "foreground" && request.name === undefined) {
    throw new UsageError(`a ${request.mode} tunnel needs --name`, "e.g. --name web");
  }
  const sink = await openEventSink(io, request);
  try {
    await sink.record();
    await serve(ctx, cmd, request, sink);
  } catch (err) {
    // The stream (and a named tunnel's log) always ends with error + stopped.
    if (!sink.stopped) await sink.failure(err);
    throw err;
  } finally {
    await sink.close();
  }
}

interface EventSink {
  /** Opens a named tunnel's log and writes its PID and status files. */
  record(): Promise<void>;
  emit(event: TunnelEvent): void;
  stats(stats: import("../../lib/tunnel/agent.ts").AgentStats): void;
  /** Tells the person at the terminal where the request inspector is. */
  inspector(url: string): void;
  failure(err: unknown): Promise<void>;
  close(): Promise<void>;
  readonly stopped: boolean;
}

async function openEventSink(io: IO, request: ServeRequest): Promise<EventSink> {
  const [{ stampEvent }, ui] = await Promise.all([
    import("../../lib/tunnel/events.ts"),
    import("../../lib/ui/tunnel.ts"),
  ]);
  const toTerminal = request.mode !== "detached";
  const renderer = toTerminal
    ? new ui.TunnelEventRenderer(io, { json: request.json || request.mode === "service" })
    : undefined;
  let record: {
    /** A named tunnel's JSON log; an unnamed listen has none (its events go to the terminal). */
    log?: import("../../lib/tunnel/daemon/rotating-log.ts").RotatingLog;
    status: import("../../lib/tunnel/daemon/record.ts").StatusRecorder;
    files: import("../../lib/tunnel/daemon/record.ts").NamedTunnelFiles;
  } | undefined;
  let nameLock: Deno.FsFile | undefined;
  const openRecord = async () => {
    if (request.name === undefined) {
      // An unnamed foreground listen leaves PID and status files too, so `tunnel ps` lists it.
      if (request.mode !== "foreground") return;
      const rec = await import("../../lib/tunnel/daemon/record.ts");
      // Only a convenience for `ps`: a folder we cannot write must not stop the tunnel.
      const files = await rec.openUnnamedRecord(io.env).catch(() => undefined);
      if (!files) return;
      const status = new rec.StatusRecorder(files, {
        mode: request.mode,
        project: request.project,
        endpoint: request.endpoint,
        label: request.label,
      });
      record = { status, files };
      return;
    }
    const [{ RotatingLog }, rec] = await Promise.all([
      import("../../lib/tunnel/daemon/rotating-log.ts"),
      import("../../lib/tunnel/daemon/record.ts"),
    ]);
    const files = rec.namedTunnelFiles(request.name, io.env);
    // Held for the life of the process, before anything is written: one process per name.
    nameLock = await rec.lockNamedTunnel(files, request.name);
    const log = new RotatingLog(files.log);
    await log.open();
    await rec.writePidRecord(files, request.mode);
    const status = new rec.StatusRecorder(files, {
      name: request.name,
      mode: request.mode,
      project: request.project,
      endpoint: request.endpoint,
      label: request.label,
    });
    record = { log, status, files };
  };
  let stopped = false;
  // Every event goes to the terminal (unless `render` is false) and a named tunnel's records.
  const deliver = (event: TunnelEvent, render = true) => {
    if (event.type === "stopped") stopped = true;
    if (render) {
      try {
        renderer?.render(event);
      } catch { /* a closed terminal must not stop the tunnel */ }
    }
    if (record) {
      try {
        record.log?.write(JSON.stringify(stampEvent(event)));
      } catch { /* a full disk must not stop the tunnel */ }
      record.status.apply(event);
    }
  };
  return {
    record: openRecord,
    emit: (event) => deliver(event),
    stats: (s) => renderer?.stats(s),
    inspector: (url) => {
      if (renderer) renderer.inspector(url);
      else io.err(`Request inspector: ${url}\n`);
    },
    get stopped() {
      return stopped;
    },
    async failure(err) {
      const { failureEvents } = await import("../../lib/tunnel/session/ending.ts");
      // A foreground human run prints the error once, through main's error handler.
      const render = request.mode !== "foreground" || request.json;
      for (const event of failureEvents(err)) deliver(event, render);
    },
    async close() {
      renderer?.finish();
      if (record) {
        await record.status.flush();
        const rec = await import("../../lib/tunnel/daemon/record.ts");
        if (record.log) {
          await rec.removePidRecord(record.files);
          record.log.close();
        } else {
          await rec.removeUnnamedRecord(record.files);
        }
      }
      nameLock?.close();
    },
  };
}

async function serve(
  ctx: CommandContext,
  cmd: Command,
  request: ServeRequest,
  sink: EventSink,
): Promise<void> {
  const io = ctx.io;
  const peers = allowedPeers(request.allowPeer, io.env("DATUMCTL_TUNNEL_ALLOWED_PEERS"));
  const [{ parseDuration }, { openTunnelProject, openResolvedTunnelProject }] = await Promise.all([
    import("../../lib/tunnel/duration.ts"),
    import("../../lib/tunnel/open.ts"),
  ]);
  if (request.label !== undefined && request.label.trim() === "") {
    throw new UsageError("--label cannot be empty", "Leave it out for a random label.");
  }
  const timeoutMs = parseDuration(request.timeout ?? "10m");
  const warn = (m: string) => io.err(terminalLine(m));
  const project = request.resolved
    ? await openResolvedTunnelProject({ ...request.resolved, name: request.name }, io.env, warn)
    : await openTunnelProject(
      {
        ...scopeInputs(cmd, io),
        ...(request.project ? { project: request.project, organization: undefined } : {}),
        session: request.session,
      },
      { repo: (cmd.optsWithGlobals() as { repo?: string }).repo, name: request.name, warn },
    );
  const [{ TunnelSession }, { resolveRelaySettings }, ui] = await Promise.all([
    import("../../lib/tunnel/session/session.ts"),
    import("../../lib/tunnel/relays.ts"),
    import("../../lib/ui/tunnel.ts"),
  ]);

  // First signal: stop and disable. Second: stop waiting for the clean-up.
  const stop = new AbortController();
  const force = new AbortController();
  const onSignal = () => (stop.signal.aborted ? force.abort() : stop.abort());
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  // Registered (not a bare Deno listener) so a signal held during a credentials write counts once.
  let unlisten: (() => void) | undefined;
  const listenForSignals = () => {
    unlisten ??= onStopSignal(onSignal, signals);
  };
  // Without a terminal there is no picker to protect: a signal means "stop" from the start.
  if (request.mode !== "foreground") listenForSignals();
  const interactive = request.mode === "foreground" && io.stdinIsTTY && !request.json;
  let inspector: import("../../lib/tunnel/inspector/session.ts").InspectorSession | undefined;
  try {
    await new TunnelSession({
      client: project.client,
      projectId: project.projectId,
      repo: project.repo,
      name: project.name,
      request: {
        endpoint: request.endpoint,
        id: request.id,
        label: request.label,
        yes: !!request.yes,
        timeoutMs,
      },
      relay: await resolveRelaySettings(io.env, project.client.auth.apiBase),
      allowedPeers: peers,
      startAgent: async (options) => {
        // The picker is over: from here on a signal means "stop and disable".
        listenForSignals();
        const { startTunnelAgent } = await import("../../lib/tunnel/engine.ts");
        const agent = await startTunnelAgent(options);
        if (request.inspect) {
          const { openInspector } = await import("../../lib/tunnel/inspector/session.ts");
          try {
            inspector = await openInspector(agent, request.inspect, {
              name: request.name,
              env: io.env,
            });
          } catch (err) {
            await agent.close().catch(() => {});
            throw err;
          }
          // Not an event: the URL carries the session's token, which must stay out of logs.
          // A service's output goes to its journal: it is found with `tunnel inspect --name`.
          if (request.mode === "foreground") sink.inspector(inspector.url);
        }
        return agent;
      },
      interactive,
      confirm: (question) => ui.confirmOnTerminal(io, question),
      pick: (candidates) => ui.pickTunnel(io, candidates),
      emit: (event) => sink.emit(event),
      onStats: (stats) => sink.stats(stats),
      stop: stop.signal,
      force: force.signal,
      gateway: io.env("DATUMCTL_TUNNEL_GATEWAY")?.trim() || undefined,
      trafficProtection: envFlag(io.env("DATUM_CONNECT_CREATE_TRAFFIC_PROTECTION_POLICIES")),
      connectorClass: io.env("DATUMCTL_CONNECTOR_CLASS")?.trim() || undefined,
    }).run();
  } finally {
    await inspector?.close();
    unlisten?.();
  }
}
