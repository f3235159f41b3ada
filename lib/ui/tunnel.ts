/**
 * Rendering for the tunnel commands: the `tunnel list` text format, the picker and the relabel
 * question of `tunnel listen`, and {@link TunnelEventRenderer}, which turns listen events into
 * the checklist on stderr (and the ready URL on stdout) for people, or into JSON lines on stdout
 * for programs, plus a live status line (requests, bytes, direct/relay path and RTT) on a TTY.
 *
 * Questions go through the prompter (lib/ui/prompter.ts), which loads its package only when a
 * prompt is shown. Tunnel names, hostnames, labels and
 * messages come from the server, a state file or the engine, so every line for a person is
 * sanitised for the terminal; JSON lines stay exact.
 */
import type { IO } from "../core/io.ts";
import type { TunnelSummary } from "../tunnel/tunnel-api.ts";
import type { AgentStats } from "../tunnel/agent.ts";
import { stampEvent, type TunnelEvent } from "../tunnel/events.ts";
import { prompter } from "./prompter.ts";
import { sanitizeForTerminal, terminalLine } from "./terminal-text.ts";

/**
 * `tunnel list` for people (datum-connect's layout), or `No tunnels found.`. A disabled tunnel
 * is shown as `[disabled]` whatever its provisioning state: its URL does not serve (the edge
 * answers 503), so calling it ready would be untrue. `-o json` keeps both facts.
 */
export function renderTunnelList(tunnels: TunnelSummary[]): string {
  if (tunnels.length === 0) return "No tunnels found.\n";
  return tunnels.map((t) => {
    const lines = [`${t.id} [${t.enabled ? t.state : "disabled"}] ${t.label} -> ${t.endpoint}`];
    for (const h of t.hostnames.length > 0 ? t.hostnames : ["(none yet)"]) {
      lines.push(`  hostname: ${h}`);
    }
    lines.push(
      t.enabled
        ? `  status: enabled, ${t.state}`
        : `  status: disabled, not serving ('datumctl tunnel listen --id ${t.id}' resumes it)`,
    );
    return lines.map(terminalLine).join("");
  }).join("");
}

/** One picker row: `hostname → endpoint [label]`, disabled tunnels marked `○`. */
export function pickerRow(t: TunnelSummary, symbols: boolean): string {
  const mark = t.enabled ? "" : symbols ? "○ " : "(disabled) ";
  return sanitizeForTerminal(`${mark}${t.hostnames[0] ?? t.id} → ${t.endpoint} [${t.label}]`);
}

/** Asks which tunnel to resume (TTY only; the caller has checked). */
export async function pickTunnel(io: IO, candidates: TunnelSummary[]): Promise<TunnelSummary> {
  return await prompter(io).select<TunnelSummary>({
    message: "Resume which tunnel?",
    choices: candidates.map((t) => ({
      value: t,
      name: pickerRow(t, io.color),
      short: sanitizeForTerminal(t.id),
    })),
    pageSize: 15,
    withoutTerminal: {
      message: "choosing a tunnel needs a terminal",
      hint: "Pass --id ID or --endpoint HOST:PORT.",
    },
  });
}

/** A `[y/N]` question on stderr (TTY only). */
export async function confirmOnTerminal(io: IO, question: string): Promise<boolean> {
  return await prompter(io).confirm({
    message: sanitizeForTerminal(question, { multiline: true }),
    default: false,
    withoutTerminal: { message: "this needs a terminal to confirm", hint: "Pass --yes." },
  });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** The live status line: requests, bytes each way, and how the edge reaches us. */
export function statusLineText(stats: AgentStats): string {
  const peer = stats.peers.find((p) => p.path !== "none") ?? stats.peers[0];
  const path = !peer || peer.path === "none"
    ? (stats.streamsTotal > 0 ? "idle" : "waiting for the first request")
    : `${peer.path}${peer.rttMs !== undefined ? ` ${peer.rttMs.toFixed(1)} ms` : ""}`;
  const requests = `${stats.streamsTotal} request${stats.streamsTotal === 1 ? "" : "s"}` +
    (stats.streamsActive > 0 ? ` (${stats.streamsActive} active)` : "");
  return `${requests} · ${formatBytes(stats.bytesToOrigin)} in · ${
    formatBytes(stats.bytesFromOrigin)
  } out · ${path}`;
}

const RULE = "=".repeat(72);

/** Requests shown under the live status line. */
export const RECENT_REQUESTS = 5;

/** One request under the status line: method, path, status, duration (ngrok-console style). */
export function requestLineText(
  request: { method: string; path: string; status: number; duration_ms: number },
  width = 80,
): string {
  // A visitor chose the path: no control characters reach the terminal.
  // deno-lint-ignore no-control-regex
  const clean = request.path.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
  const tail = ` ${String(request.status).padStart(3)} ${
    request.duration_ms.toFixed(request.duration_ms < 10 ? 1 : 0).padStart(6)
  } ms`;
  const room = Math.max(8, width - 8 - tail.length);
  const path = clean.length > room ? clean.slice(0, room - 1) + "…" : clean.padEnd(room);
  return `${request.method.slice(0, 7).padEnd(7)} ${path}${tail}`;
}

function terminalWidth(): number {
  try {
    return Math.max(40, Math.min(Deno.consoleSize().columns, 160));
  } catch {
    return 80;
  }
}

/** Renders listen events for a person (stderr, ready URL on stdout) or as JSON lines (stdout). */
export class TunnelEventRenderer {
  readonly #io: IO;
  readonly #json: boolean;
  readonly #live: boolean;
  #status = "";
  #recent: string[] = [];
  /** Lines of the live block below the status line that are on screen now. */
  #drawnRecent = 0;
  #lastHeartbeatWarning = "";
  #lastPath = "";
  #ready = false;

  constructor(io: IO, options: { json: boolean }) {
    this.#io = io;
    this.#json = options.json;
    this.#live = !options.json && io.stderrIsTTY;
  }

  #sym(symbol: string): string {
    return this.#io.color ? `${symbol} ` : "";
  }

  #clearStatus(): void {
    if (!this.#live || !this.#status) return;
    // Back up over the requests drawn under the status line, clearing each line.
    this.#io.err("\r\x1b[2K" + "\x1b[1A\x1b[2K".repeat(this.#drawnRecent));
    this.#drawnRecent = 0;
  }

  #redrawStatus(): void {
    if (!this.#live || !this.#status) return;
    this.#clearStatus();
    const below = this.#recent.map((line) => `\n    ${sanitizeForTerminal(line)}`).join("");
    this.#io.err(`\r\x1b[2K  ${sanitizeForTerminal(this.#status)}${below}`);
    this.#drawnRecent = this.#recent.length;
  }

  /** Says where the request inspector is (stderr: with -o json, stdout stays JSON lines). */
  inspector(url: string): void {
    if (this.#json) {
      this.#io.err(`Request inspector: ${url}\n`);
      return;
    }
    this.#line(`Request inspector: ${url}`);
  }

  // Our own escapes (clearing the status line) are written above; the text is data.
  #line(text: string): void {
    this.#clearStatus();
    this.#io.err(terminalLine(text));
    this.#redrawStatus();
  }

  #out(text: string): void {
    this.#clearStatus();
    this.#io.out(terminalLine(text));
    this.#redrawStatus();
  }

  /** Updates the live status line (TTY, after ready). */
  stats(stats: AgentStats): void {
    if (!this.#live || !this.#ready) return;
    this.#status = statusLineText(stats);
    this.#redrawStatus();
  }

  /** Ends the status line so the next output starts on a clean line. */
  finish(): void {
    if (this.#live && this.#status) {
      this.#clearStatus();
      this.#status = "";
      this.#recent = [];
    }
  }

  /** Renders one event. */
  render(event: TunnelEvent): void {
    if (this.#json) {
      this.#io.out(JSON.stringify(stampEvent(event)) + "\n");
      return;
    }
    switch (event.type) {
      case "identity":
        this.#line(`Your endpoint ID: ${event.endpoint_id}`);
        if (event.key_origin === "migrated") {
          this.#line(`  (moved the legacy listen_key to ${event.key_path})`);
        }
        return;
      case "phase":
        if (event.phase === "setup") this.#line("Setting up tunnel...");
        else if (event.phase === "verify") this.#line("Verifying connectivity...");
        else if (event.phase === "disabling") {
          this.finish();
          this.#ready = false;
          this.#line("Disabling tunnel...");
        } else this.#line("Tunnel disabled.");
        return;
      case "tunnel": {
        const host = event.hostnames[0];
        if (event.action === "created") {
          this.#line(`Created tunnel ${event.id} (label ${event.label}) for ${event.endpoint}`);
        } else if (event.action === "adopted") {
          this.#line(`Reusing tunnel ${event.id} (label ${event.label}) for ${event.endpoint}`);
        } else if (event.via === "only_candidate") {
          this.#line(`Resuming the only tunnel ${host ?? event.id} (${event.id})`);
        } else {
          this.#line(`Resuming tunnel ${event.id}${host ? ` (${host})` : ""} -> ${event.endpoint}`);
        }
        return;
      }
      case "step":
        if (event.status === "ready") {
          this.#line(
            `  ${this.#sym("✓")}${event.label} (${event.elapsed_secs.toFixed(1)}s)${
              event.resource ? ` [${event.resource}]` : ""
            }`,
          );
        }
        return;
      case "verify": {
        const what = event.side === "origin" ? "origin" : "proxy";
        const detail = event.http_status !== undefined
          ? `HTTP ${event.http_status}${event.error ? ` (${event.error})` : ""}`
          : event.error ?? "no answer";
        if (event.reachable) {
          this.#line(
            `  ${this.#sym("✓")}${what} ${event.side === "origin" ? "reachable" : "responding"} (${
              event.elapsed_secs.toFixed(1)
            }s) [${event.url}]: ${detail}`,
          );
        } else {
          this.#line(
            `  … ${what} ${event.side === "origin" ? "not reachable" : "not responding"} (${
              Math.round(event.elapsed_secs)
            }s) [${event.url}]: ${detail}`,
          );
        }
        return;
      }
      case "ready":
        this.#ready = true;
        this.#out(`Tunnel ready after ${Math.round(event.elapsed_secs)} sec: ${event.url}`);
        this.#line("Press Ctrl+C to stop...");
        return;
      case "stats":
        return;
      case "request":
        // On a terminal the last few sit under the status line; -o json and logs have them all.
        if (!this.#live || !this.#ready) return;
        this.#recent = [...this.#recent, requestLineText(event, terminalWidth() - 5)].slice(
          -RECENT_REQUESTS,
        );
        this.#redrawStatus();
        return;
      case "path": {
        // Reconnects after an idle close are not news; a change of path is.
        const signature = `${event.path}|${event.remote_addr ?? ""}`;
        if (event.path === "none" || signature === this.#lastPath) return;
        this.#lastPath = signature;
        this.#line(
          `  ${this.#sym("↔")}edge connected ${
            event.path === "direct" ? "directly" : "through a relay"
          }${event.remote_addr ? ` (${event.remote_addr})` : ""}${
            event.rtt_ms !== undefined ? `, RTT ${event.rtt_ms} ms` : ""
          }`,
        );
        return;
      }
      case "warning":
        this.#warning(event);
        return;
      case "error":
      case "stopped":
        // main.ts prints the error itself, once, in the chosen --error-format.
        return;
    }
  }

  #warning(event: Extract<TunnelEvent, { type: "warning" }>): void {
    switch (event.code) {
      case "quota_check_retry":
      case "deleted_upstream":
        this.#line(event.message);
        return;
      case "step_pending":
        this.#line(`  … ${event.message}`);
        return;
      case "terminal_failure":
        this.finish();
        this.#line(RULE);
        for (const l of event.message.split("\n")) this.#line(l);
        this.#line(RULE);
        return;
      case "timeout_summary":
        this.#line(`  ${event.message}`);
        return;
      case "restart_within_dns_ttl":
      case "listener_queued":
      case "woke_up":
      case "reenabled":
      case "tunnel_recovered":
        this.#line(`note: ${event.message}`);
        return;
      case "heartbeat":
        if (event.message === this.#lastHeartbeatWarning) return;
        this.#lastHeartbeatWarning = event.message;
        this.#line(`warning: ${event.message}`);
        return;
      default:
        this.#line(`warning: ${event.message}`);
    }
  }
}
