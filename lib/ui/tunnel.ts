/**
 * Rendering for the tunnel commands: the `tunnel list` text format, the picker and the relabel
 * question of `tunnel listen`, and {@link TunnelEventRenderer}, which turns listen events into
 * the checklist on stderr (and the ready URL on stdout) for people, or into JSON lines on stdout
 * for programs, plus a live status line (requests, bytes, direct/relay path and RTT) on a TTY.
 *
 * `@inquirer/prompts` is loaded only when a prompt is shown.
 */
import type { IO } from "./io.ts";
import type { TunnelSummary } from "../tunnel/service.ts";
import type { AgentStats } from "../tunnel/agent.ts";
import { stampEvent, type TunnelEvent } from "../tunnel/events.ts";
import { UsageError } from "./errors.ts";

/** `tunnel list` for people (datum-connect's format), or `No tunnels found.`. */
export function renderTunnelList(tunnels: TunnelSummary[]): string {
  if (tunnels.length === 0) return "No tunnels found.\n";
  return tunnels.map((t) => {
    const lines = [`${t.id} [${t.state}] ${t.label} -> ${t.endpoint}`];
    for (const h of t.hostnames.length > 0 ? t.hostnames : ["(none yet)"]) {
      lines.push(`  hostname: ${h}`);
    }
    lines.push(`  status: ${t.enabled ? "enabled" : "disabled"}, ${t.state}`);
    return lines.join("\n") + "\n";
  }).join("");
}

/** One picker row: `hostname → endpoint [label]`, disabled tunnels marked `○`. */
export function pickerRow(t: TunnelSummary, symbols: boolean): string {
  const mark = t.enabled ? "" : symbols ? "○ " : "(disabled) ";
  return `${mark}${t.hostnames[0] ?? t.id} → ${t.endpoint} [${t.label}]`;
}

/** Asks which tunnel to resume (TTY only; the caller has checked). */
export async function pickTunnel(io: IO, candidates: TunnelSummary[]): Promise<TunnelSummary> {
  if (!io.stdinIsTTY) {
    throw new UsageError(
      "choosing a tunnel needs a terminal",
      "Pass --id ID or --endpoint HOST:PORT.",
    );
  }
  const [{ select }, process] = await Promise.all([
    import("@inquirer/prompts"),
    import("node:process"),
  ]);
  return await select<TunnelSummary>(
    {
      message: "Resume which tunnel?",
      choices: candidates.map((t) => ({ value: t, name: pickerRow(t, io.color), short: t.id })),
      pageSize: 15,
    },
    { output: process.default.stderr },
  );
}

/** A `[y/N]` question on stderr (TTY only). */
export async function confirmOnTerminal(io: IO, question: string): Promise<boolean> {
  if (!io.stdinIsTTY) throw new UsageError("this needs a terminal to confirm", "Pass --yes.");
  const [{ confirm }, process] = await Promise.all([
    import("@inquirer/prompts"),
    import("node:process"),
  ]);
  return await confirm({ message: question, default: false }, { output: process.default.stderr });
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

/** Renders listen events for a person (stderr, ready URL on stdout) or as JSON lines (stdout). */
export class TunnelEventRenderer {
  readonly #io: IO;
  readonly #json: boolean;
  readonly #live: boolean;
  #status = "";
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
    if (this.#live && this.#status) this.#io.err("\r\x1b[2K");
  }

  #redrawStatus(): void {
    if (this.#live && this.#status) this.#io.err(`\r\x1b[2K  ${this.#status}`);
  }

  #line(text: string): void {
    this.#clearStatus();
    this.#io.err(text + "\n");
    this.#redrawStatus();
  }

  #out(text: string): void {
    this.#clearStatus();
    this.#io.out(text + "\n");
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
      this.#io.err("\r\x1b[2K");
      this.#status = "";
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
        // Shown by -o json and a named tunnel's log; the live status line counts them here.
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
