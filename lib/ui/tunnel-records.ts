/**
 * Rendering of named tunnels' records for people: the `tunnel ps` table, the `tunnel status`
 * block and `tunnel logs` lines (one JSON event per log line, turned into one readable line).
 *
 * Records and logs hold server data (hostnames, labels, messages) and request paths sent by
 * anyone on the internet, so every text for a person is sanitised for the terminal.
 */
import type { NamedTunnelView } from "../tunnel/daemon/record.ts";
import type { StampedTunnelEvent } from "../tunnel/events.ts";
import { renderTable } from "./table.ts";
import { sanitizeForTerminal, terminalLine } from "./terminal-text.ts";

/** One `tunnel ps` row, also the `-o json` shape. */
export interface PsRow {
  /** null for an unnamed foreground `tunnel listen`. */
  name: string | null;
  project: string | null;
  endpoint: string | null;
  hostname: string | null;
  url: string | null;
  tunnel_id: string | null;
  endpoint_id: string | null;
  /** starting, ready, stopping, dead, stopped or failed. */
  state: string;
  path: string | null;
  mode: string | null;
  pid: number | null;
  started_at: string | null;
  uptime_secs: number | null;
}

/** The rows of `views`, with uptimes measured at `now`. */
export function psRows(views: NamedTunnelView[], now: Date = new Date()): PsRow[] {
  return views.map((v) => {
    const s = v.status;
    const running = v.process === "running";
    const state = v.process === "dead"
      ? "dead"
      : running
      ? s?.state ?? "starting"
      : s?.state === "failed"
      ? "failed"
      : "stopped";
    const started = running ? v.pid?.started_at ?? s?.started_at : undefined;
    return {
      name: v.unnamed ? null : v.name,
      project: s?.project ?? null,
      endpoint: s?.endpoint ?? null,
      hostname: s?.hostname ?? null,
      url: s?.url ?? null,
      tunnel_id: s?.tunnel_id ?? null,
      endpoint_id: s?.endpoint_id ?? null,
      state,
      path: running ? s?.path ?? null : null,
      mode: v.pid?.mode ?? s?.mode ?? null,
      pid: v.pid?.pid ?? null,
      started_at: started ?? null,
      uptime_secs: started
        ? Math.max(0, Math.round((now.getTime() - Date.parse(started)) / 1000))
        : null,
    };
  });
}

/** `3s`, `4m12s`, `2h05m`, `3d04h`. */
export function formatUptime(secs: number): string {
  if (secs < 60) return `${secs}s`;
  if (secs < 3600) return `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s`;
  if (secs < 86400) {
    return `${Math.floor(secs / 3600)}h${String(Math.floor(secs / 60) % 60).padStart(2, "0")}m`;
  }
  return `${Math.floor(secs / 86400)}d${String(Math.floor(secs / 3600) % 24).padStart(2, "0")}h`;
}

/** The `tunnel ps` table (columns as the help text lists them). */
export async function renderPsTable(rows: PsRow[]): Promise<string> {
  if (rows.length === 0) return "";
  const header = ["NAME", "PROJECT", "ENDPOINT", "HOSTNAME", "STATE", "PATH", "UPTIME", "PID"];
  const cells = rows.map((r) => [
    r.name ?? "(unnamed)",
    r.project ?? "-",
    r.endpoint ?? "-",
    r.hostname ?? "-",
    r.state,
    r.path ?? "-",
    r.uptime_secs === null ? "-" : formatUptime(r.uptime_secs),
    r.pid === null ? "-" : String(r.pid),
  ]);
  return await renderTable(header, cells);
}

/** The `tunnel status` block for one named tunnel. */
export function renderStatusBlock(view: NamedTunnelView, row: PsRow): string {
  const s = view.status;
  const lines: string[] = [`Named tunnel: ${view.name}`];
  const stateDetail = row.state === "dead"
    ? `dead: process ${row.pid} ended without stopping the tunnel`
    : row.pid !== null && view.process === "running"
    ? `${row.state} (pid ${row.pid}, ${row.mode ?? "?"}${
      row.uptime_secs === null ? "" : `, up ${formatUptime(row.uptime_secs)}`
    })`
    : row.state === "failed" && s?.exit_code !== undefined
    ? `failed (exit ${s.exit_code})`
    : row.state;
  lines.push(`State:     ${stateDetail}`);
  if (s?.url) lines.push(`URL:       ${s.url}`);
  if (s?.tunnel_id) {
    lines.push(
      `Tunnel:    ${s.tunnel_id}${s.label ? ` (${s.label})` : ""}${
        s.endpoint ? ` -> ${s.endpoint}` : ""
      }`,
    );
  } else if (s?.endpoint) lines.push(`Endpoint:  ${s.endpoint}`);
  if (s?.project) lines.push(`Project:   ${s.project}`);
  if (row.path) lines.push(`Path:      ${row.path}${s?.remote_addr ? ` (${s.remote_addr})` : ""}`);
  if (s?.requests_total !== undefined) lines.push(`Requests:  ${s.requests_total}`);
  if (s?.last_error) {
    lines.push(`Error:     ${s.last_error.message}`);
    if (s.last_error.hint) lines.push(`           ${s.last_error.hint}`);
  } else if (s?.last_warning && view.process === "running") {
    lines.push(`Warning:   ${s.last_warning.message}`);
  }
  lines.push(`Log:       ${view.files.log}`);
  if (row.state === "dead") {
    lines.push(
      "",
      "The process was killed or crashed, so its tunnel may still be enabled with nobody serving it.",
      `To recover: 'datumctl tunnel stop --name ${view.name}' disables the tunnel and clears the record;`,
      `then 'datumctl tunnel listen --detach --name ${view.name}${
        s?.tunnel_id ? ` --id ${s.tunnel_id}` : s?.endpoint ? ` ${s.endpoint}` : ""
      }' serves it again.`,
    );
  }
  return lines.map(terminalLine).join("");
}

function clock(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** One log line (a stamped event) as text; unknown lines are shown as they are. */
export function formatLogLine(line: string): string {
  let e: StampedTunnelEvent;
  try {
    e = JSON.parse(line);
  } catch {
    return sanitizeForTerminal(line);
  }
  const at = typeof e.time === "string" ? clock(e.time) : "";
  return sanitizeForTerminal(`${at}  ${describe(e)}`);
}

function describe(e: StampedTunnelEvent): string {
  switch (e.type) {
    case "identity":
      return `identity   endpoint ${e.endpoint_id} (project ${e.project}, key ${e.key_origin})`;
    case "phase":
      return `phase      ${e.phase}`;
    case "tunnel":
      return `tunnel     ${e.action} ${e.id} (${e.label}) -> ${e.endpoint}`;
    case "step":
      return `step       ${e.label}: ${e.status}${e.reason ? ` (${e.reason})` : ""}`;
    case "verify":
      return `verify     ${e.side} ${e.url}: ${
        e.reachable ? `HTTP ${e.http_status ?? "ok"}` : e.error ?? `HTTP ${e.http_status}`
      }`;
    case "ready":
      return `ready      ${e.url} after ${e.elapsed_secs}s`;
    case "stats":
      return `stats      requests ${e.requests_total} (${e.requests_active} active, ${e.requests_denied} denied), ${e.bytes_to_origin} B in, ${e.bytes_from_origin} B out`;
    case "request":
      return `request    ${e.method} ${e.path} -> ${e.status} (${e.duration_ms} ms)`;
    case "path":
      return `path       ${e.path}${e.remote_addr ? ` ${e.remote_addr}` : ""}${
        e.rtt_ms !== undefined ? ` rtt ${e.rtt_ms} ms` : ""
      }`;
    case "warning":
      return `warning    ${e.message}`;
    case "error":
      return `error      ${e.message}${e.hint ? ` (${e.hint})` : ""} [exit ${e.exit_code}]`;
    case "stopped":
      return `stopped    ${e.reason}, exit ${e.exit_code}${e.disabled ? ", tunnel disabled" : ""}`;
    default: {
      const { schema: _s, time: _t, type, ...rest } = e as Record<string, unknown>;
      return `${String(type).padEnd(10)} ${JSON.stringify(rest)}`;
    }
  }
}
