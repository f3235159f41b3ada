/**
 * `datumctl update [--check] [--notice on|off] [-o json|yaml]`: replace this binary with the
 * latest release (checksum verified, atomic), or only report whether one is due. Also attaches
 * the once-a-day update notice to every other command (see {@link attachUpdateNotice}).
 *
 * A `deno run` from source and a binary a package manager installed are never replaced.
 */
import { type Command, Option } from "commander";
import type { CommandContext, RegisterCommands } from "./context.ts";
import type { IO } from "../lib/core/io.ts";
import { parseOutputFormat, renderStructured, successLine } from "../lib/ui/output.ts";
import { releasesUrl } from "../lib/release/platform.ts";
import { type InstallKind, installKind } from "../lib/release/update.ts";
import { cacheDir, configPath } from "../lib/store/paths.ts";

const FORMATS = ["text", "json", "yaml"] as const;

const EXAMPLES = `
Examples:
  # Is a newer datumctl out?
  datumctl update --check

  # Download it, verify its checksum and replace this binary:
  datumctl update

  # Stop the once-a-day notice (or set DATUMCTL_NO_UPDATE_CHECK=1):
  datumctl update --notice off

Releases are read from ${releasesUrl(() => undefined)}
(DATUMCTL_INSTALL_BASE_URL points elsewhere, e.g. a mirror).`;

/** The facts the update command and the notice depend on; tests replace them. */
export interface UpdateEnvironment {
  /** True in a `deno compile` binary, false under `deno run`. */
  standalone: boolean;
  /** The running binary, symlinks resolved. */
  execPath: string;
  fetch: typeof fetch;
  now: () => number;
}

function realExecPath(): string {
  const path = Deno.execPath();
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function processEnvironment(): UpdateEnvironment {
  return { standalone: Deno.build.standalone, execPath: realExecPath(), fetch, now: Date.now };
}

function readMarker(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function kindOf(env: UpdateEnvironment): InstallKind {
  return installKind(env.execPath, env.standalone, readMarker);
}

function howToUpdate(kind: InstallKind): string {
  if (kind.kind === "managed") return `Update it with ${kind.manager}.`;
  if (kind.kind === "source") return "Update your checkout (git pull).";
  return "Run `datumctl update`.";
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

interface UpdateOptions {
  check?: boolean;
  notice?: "on" | "off";
  output?: string;
}

async function setNotice(io: IO, on: boolean): Promise<void> {
  const { updateConfig } = await import("../lib/store/config.ts");
  await updateConfig((config) => {
    if (on) delete config["update-check"];
    else config["update-check"] = false;
  });
  io.out(`Update notice turned ${on ? "on" : "off"}.\n`);
}

async function runUpdate(ctx: CommandContext, opts: UpdateOptions, env: UpdateEnvironment) {
  const format = parseOutputFormat(opts.output, FORMATS, "text");
  if (opts.notice) return await setNotice(ctx.io, opts.notice === "on");
  const {
    compareVersions,
    downloadPathFor,
    downloadVerified,
    fetchLatestVersion,
    notSelfUpdatable,
    replaceBinary,
  } = await import("../lib/release/update.ts");
  const kind = kindOf(env);
  if (!opts.check && kind.kind !== "standalone") throw notSelfUpdatable(kind);
  const baseUrl = releasesUrl((name) => ctx.io.env(name));
  const latest = await fetchLatestVersion(baseUrl, env.fetch);
  const available = compareVersions(latest, ctx.version) > 0;
  const report = {
    current: ctx.version,
    latest,
    updateAvailable: available,
    installedBy: kind.kind === "managed" ? kind.manager : kind.kind,
    path: kind.kind === "source" ? undefined : kind.path,
    updated: false,
  };
  if (opts.check || !available) {
    if (format !== "text") return ctx.io.out(renderStructured(report, format));
    ctx.io.out(
      available
        ? `datumctl ${latest} is available (you have ${ctx.version}). ${howToUpdate(kind)}\n`
        : `datumctl ${ctx.version} is the latest release.\n`,
    );
    return;
  }
  const path = (kind as { path: string }).path;
  ctx.io.err(`Downloading datumctl ${latest} from ${baseUrl} ...\n`);
  const download = await downloadVerified(
    baseUrl,
    { os: Deno.build.os, arch: Deno.build.arch },
    downloadPathFor(path),
    env.fetch,
  );
  await replaceBinary(path, download.path, latest);
  if (format !== "text") {
    return ctx.io.out(
      renderStructured({ ...report, updated: true, sha256: download.sha256 }, format),
    );
  }
  ctx.io.out(successLine(ctx.io, `Updated datumctl ${ctx.version} → ${latest} (${path}).`));
}

/** Commands that never show the notice: completion answers are parsed by shells. */
const QUIET_COMMANDS = new Set(["complete", "completion", "update"]);

/**
 * Runs the once-a-day check around every command: started before its action, awaited (for
 * what is left of a short budget) after it, and printed to stderr. Off when stderr is not a
 * terminal, under CI, with DATUMCTL_NO_UPDATE_CHECK=1, with `update-check: false` in the
 * config, and when running from source.
 */
export function attachUpdateNotice(
  program: Command,
  ctx: CommandContext,
  env: UpdateEnvironment = processEnvironment(),
): void {
  let pending: { finish(): Promise<string | undefined> } | undefined;
  let kind: InstallKind | undefined;
  program.hook("preAction", async (_root, action) => {
    pending = undefined;
    const io = ctx.io;
    const quiet = action.parent === program && QUIET_COMMANDS.has(action.name());
    if (quiet || !io.stderrIsTTY) return;
    if (isOn(io.env("DATUMCTL_NO_UPDATE_CHECK")) || isOn(io.env("CI"))) return;
    kind = kindOf(env);
    if (kind.kind === "source") return;
    const [{ UpdateNotice }, { loadConfig }] = await Promise.all([
      import("../lib/release/update-notice.ts"),
      import("../lib/store/config.ts"),
    ]);
    // The notice is never worth an error: no HOME or an unreadable config just means no notice.
    const config = await (async () => await loadConfig(configPath((name) => io.env(name))))()
      .catch(() => undefined);
    if (config?.["update-check"] === false) return;
    const notice = new UpdateNotice({
      version: ctx.version,
      baseUrl: releasesUrl((name) => io.env(name)),
      cacheDir: cacheDir((name) => io.env(name)),
      fetch: env.fetch,
      now: env.now,
    });
    notice.start();
    pending = notice;
  });
  program.hook("postAction", async () => {
    if (!pending || !kind) return;
    const latest = await pending.finish();
    pending = undefined;
    if (!latest) return;
    ctx.io.err(
      `\nA new datumctl is available: ${ctx.version} → ${latest}. ${howToUpdate(kind)}\n` +
        "(Turn this notice off with `datumctl update --notice off` or DATUMCTL_NO_UPDATE_CHECK=1.)\n",
    );
  });
}

/** Registers `update` and the update notice. */
export const register: RegisterCommands = (program, ctx) => {
  program
    .command("update")
    .summary("Update datumctl to the latest release")
    .description(
      "Download the latest datumctl for this platform, verify it against the release's " +
        "SHA256SUMS and replace this binary in one step. A binary installed by a package " +
        "manager (Homebrew, apt, Nix, snap, ...) or a run from source is left alone: update it " +
        "the way it was installed.",
    )
    .option("--check", "only report whether a newer release exists")
    .addOption(
      new Option("--notice <state>", "turn the once-a-day update notice on or off").choices([
        "on",
        "off",
      ]),
    )
    .addOption(new Option("-o, --output <format>", "output format").choices([...FORMATS]))
    .addHelpText("after", EXAMPLES)
    .action(async (opts: UpdateOptions) => await runUpdate(ctx, opts, processEnvironment()));
  attachUpdateNotice(program, ctx);
};
