/**
 * `datumctl tunnel listen`: its flags and help, and serving one tunnel in this process — the
 * body shared by `tunnel listen` (foreground, or the detached process `--detach` starts) and
 * `tunnel run` (a system service): scope, signals, the session of lib/tunnel/session/, and where
 * its events go. A foreground run renders them for people (or as JSON lines with `-o json`); a
 * named tunnel also records its PID, status and a rotated JSON log in its folder, which is what
 * `tunnel ps`, `status`, `stop` and `logs` read.
 *
 * Heavy modules are imported inside the actions.
 */
import { type Command, Option } from "commander";
import { type CommandContext, scopeInputs } from "../command-context.ts";
import { ENVIRONMENT, EXIT_CODES } from "./help.ts";
import { onStopSignal } from "../../lib/process/signals.ts";
import { UsageError } from "../../lib/core/errors.ts";
import { parseOutputFormat } from "../../lib/ui/output.ts";
import { terminalLine } from "../../lib/ui/terminal-text.ts";
import type { IO } from "../../lib/core/io.ts";
import type { TunnelEvent } from "../../lib/tunnel/events.ts";
import type { RunMode } from "../../lib/tunnel/daemon/record.ts";
import type { InspectSettings } from "../../lib/tunnel/inspector/address.ts";
import { checkPeerIds } from "../../lib/tunnel/peer-ids.ts";

/** Adds `listen` to the `tunnel` group. */
export function registerListen(tunnel: Command, ctx: CommandContext) {
  tunnel
    .command("listen")
    .description("Serve a local service at a public HTTPS URL until Ctrl-C")
    .argument("[endpoint]", "the local service: a port (8080), host:port or http://host:port")
    .option("--endpoint <endpoint>", "the local service (same as the argument)")
    .option("--id <id>", "resume this tunnel (keeps its hostname)")
    .option(
      "--label <label>",
      "label for a new tunnel (default: the --name, else 12 random hex characters)",
    )
    .option("--name <name>", "run as named tunnel N: its own iroh identity and state folder")
    .option("-d, --detach", "run in the background (needs --name); see 'tunnel ps'")
    .option(
      "--wait <duration>",
      "with --detach: how long to wait for ready (0: return at once)",
      "10s",
    )
    .option("--session <name>", "use this stored session instead of the context's")
    .addOption(new Option("--daemon-child", "internal: the process --detach starts").hideHelp())
    .option("--timeout <duration>", "time allowed for the whole setup, checks included", "10m")
    .option("-y, --yes", "relabel an existing tunnel without asking")
    .option(
      "--allow-peer <id>",
      "serve only this iroh peer (endpoint id, 64 hex); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(new Option("-o, --output <format>", "json or yaml (listen: json lines)"))
    .option("--inspect [addr]", "serve the request inspector (default 127.0.0.1:4040)")
    .option("--inspect-body-limit <size>", "bytes kept of each body: KiB, or 512B/1MiB (0: none)")
    .option("--inspect-show-secrets", "show Authorization/Cookie headers unmasked in the inspector")
    .addHelpText(
      "after",
      `
Choosing the tunnel:
  ENDPOINT / --endpoint E  reuse this machine's tunnel for E (same label), or create one
  --id ID                  resume tunnel ID: its backend is pointed at this machine, its
                           hostname stays; with --endpoint, E must equal its endpoint
                           (change it with 'tunnel update')
  neither                  on a terminal, pick among this machine's tunnels

What the agent may reach is decided on this machine, never by the server: the endpoint given
here, or this machine's record of the tunnel (state.yml). When the server's backend differs
from that record (anyone in the project can edit it), or there is no record, a terminal asks
first; without one, listen stops (exit 64) until the target is given with --endpoint. A
target that is not loopback (a LAN address, 0.0.0.0, a host name) is served only when given
with --endpoint, and a warning says so.

Who may connect: by default any iroh peer that knows this machine's endpoint id (Datum
publishes no list of its edge's identities). --allow-peer ID (repeatable, or
DATUMCTL_TUNNEL_ALLOWED_PEERS=ID,ID) serves only those peers and refuses every other one
when it connects; each request event names the peer that sent it.

Named tunnels:
  --name N                 use the folder $XDG_DATA_HOME/datumctl/connect/N (its own listen_key,
                           state.yml, PID file, status and JSON log), so several named tunnels
                           run at once, each with its own Connector. N: lowercase letters,
                           digits, dashes (max 63). One process per name (a second is refused,
                           exit 64); unnamed listeners of one project wait for each other.
  --detach                 with --name: start in the background (own session, no terminal),
                           wait up to 10 s (--wait) for ready, print the URL and return:
                           'tunnel ps', 'tunnel status|logs|stop --name N'.

Then it shows each setup step, verifies that the local service answers and that a request to
the public URL reaches it through the tunnel, prints "Tunnel ready after N sec: https://…",
and keeps serving. Ctrl-C (or SIGTERM) disables the tunnel (the hostname is kept for --id).

Request inspector:
  --inspect [ADDR]         serve a page listing every request live (headers, the first 64 KiB
                           of each body, replay, copy as curl) and a JSON API under
                           /api/requests, on 127.0.0.1:4040 (the next free port if taken) or
                           ADDR (a port or loopback host:port; put the endpoint first or write
                           --inspect=ADDR). It prints the URL with this run's token; the token
                           is required, and Authorization, Cookie, Set-Cookie and
                           Proxy-Authorization values are masked unless --inspect-show-secrets.
                           A named tunnel's URL: 'datumctl tunnel inspect --name N'.

With -o json every event is one JSON line on stdout (schema datumctl.tunnel.events/v1, see
docs/tunnel-events.md): identity, phase, tunnel, step, verify, ready, stats, path, warning,
error, stopped.

Examples:
  datumctl tunnel listen 8080
  datumctl tunnel listen --endpoint localhost:11434 --label ollama
  datumctl tunnel listen --id tunnel-gchhg
  datumctl tunnel listen 11434 --name ollama --detach
  datumctl tunnel listen 8080 --inspect
  datumctl tunnel listen 3000 --name web --detach -o json
  datumctl tunnel listen 3000 --project web-app -o json | jq -c 'select(.type=="ready")'
${ENVIRONMENT}
${EXIT_CODES}`,
    )
    .action(async (argument: string | undefined, flags: ListenFlags, cmd: Command) => {
      const json = flags.output !== undefined &&
        parseOutputFormat(flags.output, ["json"] as const, "json") === "json";
      if (argument !== undefined && flags.endpoint !== undefined) {
        throw new UsageError(
          "give the endpoint once: as the argument or with --endpoint",
          "e.g. 'datumctl tunnel listen localhost:8080'.",
        );
      }
      const { endpointFromArgument } = await import("../../lib/tunnel/endpoint.ts");
      // A bare port means localhost:PORT however it is given (argument or --endpoint).
      const given = argument ?? flags.endpoint;
      const endpoint = given !== undefined ? endpointFromArgument(given) : undefined;
      const inspect = flags.inspect !== undefined ||
          flags.inspectBodyLimit !== undefined || flags.inspectShowSecrets
        ? (await import("../../lib/tunnel/inspector/address.ts")).inspectSettings(flags)
        : undefined;
      if (flags.detach) {
        const { detachListen } = await import("./daemon.ts");
        await detachListen(ctx, cmd, { ...flags, endpoint, json, inspect });
        return;
      }
      if (flags.daemonChild) {
        // The background process of --detach: everything comes from what the parent resolved.
        const { DETACHED_TUNNEL_ENV, readDetachedTunnel } = await import(
          "../../lib/tunnel/daemon/detach.ts"
        );
        const detached = readDetachedTunnel(ctx.io.env(DETACHED_TUNNEL_ENV));
        await serveTunnel(ctx, cmd, {
          endpoint: detached.endpoint,
          allowPeer: detached.allowPeer,
          id: detached.id,
          label: detached.label,
          name: detached.name,
          timeout: detached.timeout,
          yes: detached.yes,
          json: false,
          project: detached.projectId,
          session: detached.session,
          mode: "detached",
          inspect: detached.inspect,
          resolved: detached,
        });
        return;
      }
      await serveTunnel(ctx, cmd, {
        endpoint,
        allowPeer: flags.allowPeer,
        id: flags.id,
        label: flags.label,
        name: flags.name,
        timeout: flags.timeout,
        yes: flags.yes,
        json,
        session: flags.session,
        mode: "foreground",
        inspect,
      });
    });
}

interface ListenFlags {
  endpoint?: string;
  id?: string;
  label?: string;
  name?: string;
  session?: string;
  timeout: string;
  yes?: boolean;
  output?: string;
  detach?: boolean;
  wait: string;
  daemonChild?: boolean;
  inspect?: string | boolean;
  inspectBodyLimit?: string;
  inspectShowSecrets?: boolean;
  allowPeer?: string[];
}

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
  const peers = checkPeerIds(request.allowPeer, io.env("DATUMCTL_TUNNEL_ALLOWED_PEERS"));
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
