/**
 * Manual pages (roff, section 1) rendered from the commander tree, one per visible command:
 * `datumctl.1`, `datumctl-ctx.1`, `datumctl-ctx-use.1`, ...
 *
 * Pages are built from what the help shows (summary, description, usage, arguments, flags,
 * subcommands, the text a command adds after its help such as examples and exit codes), so a page
 * never says something `--help` does not.
 */
import type { Command, Help } from "commander";

/** Options of {@link renderManPages}. */
export interface ManPageOptions {
  /** Printed in the footer, e.g. `0.1.0`. */
  version: string;
  /** Printed in the footer; `YYYY-MM-DD`. */
  date: string;
}

/** `datumctl ctx use` → `datumctl-ctx-use.1`. */
export function manPageName(commandPath: string): string {
  return `${commandPath.replaceAll(" ", "-")}.1`;
}

/**
 * Escapes text for roff: backslashes, dashes, lines starting with a control character, and
 * non-ASCII characters as `\[uXXXX]` (roff input is not assumed to be UTF-8).
 */
function escapeRoff(text: string): string {
  return text
    .replaceAll("\\", "\\e")
    .replaceAll("-", "\\-")
    .replace(
      /[^\t\n\x20-\x7e]/gu,
      (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`,
    )
    .split("\n")
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join("\n");
}

function bold(text: string): string {
  return `\\fB${escapeRoff(text)}\\fR`;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** The text a command adds after its help (`addHelpText("after", ...)`). */
function afterHelpText(cmd: Command): string {
  let text = "";
  // Commander keeps that text as `afterHelp` listeners (Command is an EventEmitter at run
  // time, which its typings leave out); replaying the event collects it.
  const emitter = cmd as unknown as { emit(event: string, context: unknown): boolean };
  emitter.emit("afterHelp", {
    error: false,
    command: cmd,
    write: (s: string) => {
      text += s;
    },
  });
  return text;
}

/**
 * Turns free help text into sections: a line like `Examples:` starts a section, the lines
 * under it are kept as they are laid out (examples and tables need their columns).
 */
function renderExtraText(text: string): string {
  const out: string[] = [];
  let inBlock = false;
  const close = () => {
    if (inBlock) out.push(".fi", ".RE");
    inBlock = false;
  };
  for (const line of text.replace(/\s+$/, "").split("\n")) {
    const heading = /^([A-Z][^:]*):\s*$/.exec(line);
    if (heading) {
      close();
      out.push(`.SH ${escapeRoff(heading[1].toUpperCase())}`);
      continue;
    }
    if (line.trim() === "" && !inBlock) continue;
    if (!inBlock) {
      if (out.length === 0) out.push(".SH NOTES");
      out.push(".RS 4", ".nf");
      inBlock = true;
    }
    out.push(line.trim() === "" ? "" : escapeRoff(line.replace(/^ {2}/, "")));
  }
  close();
  return out.join("\n");
}

function renderOptions(title: string, help: Help, options: ReturnType<Help["visibleOptions"]>) {
  if (options.length === 0) return [];
  const lines = [`.SH ${title}`];
  for (const option of options) {
    lines.push(".TP", bold(help.optionTerm(option)));
    lines.push(escapeRoff(help.optionDescription(option)));
  }
  return lines;
}

function renderPage(cmd: Command, help: Help, opts: ManPageOptions): string {
  const path = commandPath(cmd);
  const title = path.replaceAll(" ", "-").toUpperCase();
  const summary = cmd.summary() || cmd.description().split("\n")[0] || path;
  const lines: string[] = [
    `.TH ${title} 1 "${opts.date}" "datumctl ${opts.version}" "datumctl Manual"`,
    ".SH NAME",
    `${escapeRoff(path.replaceAll(" ", "-"))} \\- ${escapeRoff(summary)}`,
    ".SH SYNOPSIS",
    `${bold(path)} ${escapeRoff(cmd.usage())}`,
  ];
  const description = cmd.description();
  if (description) lines.push(".SH DESCRIPTION", escapeRoff(description));
  const args = help.visibleArguments(cmd);
  if (args.length > 0) {
    lines.push(".SH ARGUMENTS");
    for (const arg of args) {
      lines.push(".TP", bold(help.argumentTerm(arg)), escapeRoff(help.argumentDescription(arg)));
    }
  }
  lines.push(...renderOptions("OPTIONS", help, help.visibleOptions(cmd)));
  if (cmd.parent) {
    let root = cmd;
    while (root.parent) root = root.parent;
    const globals = help.visibleOptions(root).filter((o) =>
      !/^--(version|help)$/.test(o.long ?? "")
    );
    lines.push(...renderOptions("GLOBAL OPTIONS", help, globals));
  }
  const subs = help.visibleCommands(cmd).filter((c) => c.name() !== "help");
  if (subs.length > 0) {
    lines.push(".SH COMMANDS");
    for (const sub of subs) {
      lines.push(".TP", bold(`${path} ${sub.name()}`));
      lines.push(escapeRoff(sub.summary() || sub.description().split("\n")[0]));
    }
  }
  const extra = afterHelpText(cmd);
  if (extra.trim()) lines.push(renderExtraText(extra));
  const related = [
    ...(cmd.parent ? [commandPath(cmd.parent)] : []),
    ...subs.map((s) => `${path} ${s.name()}`),
  ];
  if (related.length > 0) {
    lines.push(".SH SEE ALSO");
    lines.push(
      related.map((p) => `\\fB${escapeRoff(p.replaceAll(" ", "-"))}\\fR(1)`).join(",\n"),
    );
  }
  return lines.join("\n") + "\n";
}

/** Every visible command of `program` (itself included) as page name → roff text. */
export function renderManPages(program: Command, opts: ManPageOptions): Map<string, string> {
  const pages = new Map<string, string>();
  const help = program.createHelp();
  // Man pages are not a terminal: let commander lay out text without wrapping.
  help.helpWidth = 1000;
  const walk = (cmd: Command) => {
    pages.set(manPageName(commandPath(cmd)), renderPage(cmd, help, opts));
    for (const sub of help.visibleCommands(cmd)) if (sub.name() !== "help") walk(sub);
  };
  walk(program);
  return pages;
}
