/**
 * Renders bare `datumctl`'s landing page from a {@link LandingSummary}.
 */
import type { LandingSummary } from "../scope/landing-summary.ts";
import { terminalBlock } from "./terminal-text.ts";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function hints(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([cmd]) => cmd.length));
  return rows.map(([cmd, what]) => `  ${cmd.padEnd(width)}   ${what}\n`).join("");
}

/** The landing page text (names and emails from the login, display names from the server: sanitised). */
export function renderLanding(summary: LandingSummary, version: string): string {
  return terminalBlock(landingText(summary, version));
}

function landingText(summary: LandingSummary, version: string): string {
  let text = `datumctl ${version}: Datum Cloud from your terminal\n\n`;
  if (!summary.loggedIn || !summary.user) {
    text += "You are not logged in.\n\n";
    text += hints([
      ["datumctl login", "sign in with a browser"],
      ["datumctl login --no-browser", "sign in from an SSH session or a container"],
      ["datumctl --help", "every command"],
    ]);
    return text;
  }
  const who = summary.user.name
    ? `${summary.user.name} (${summary.user.email})`
    : summary.user.email;
  text += `Logged in as ${who}\n`;
  const c = summary.context;
  if (c) {
    const where = c.project
      ? `project ${c.project.displayName} in ${c.organization.displayName}`
      : `organization ${c.organization.displayName}`;
    text += `Context:   ${c.ref} (${where})\n`;
  } else {
    text += "Context:   (none)\n";
  }
  text += `Access:    ${plural(summary.organizations, "organization")}, ${
    plural(summary.projects, "project")
  }${summary.lastRefreshed ? ` (as of ${summary.lastRefreshed})` : ""}\n\n`;
  const rows: [string, string][] = c
    ? [
      ["datumctl get httpproxies", "list this context's resources (any type works)"],
      ["datumctl tunnel listen 8080", "share a local service at a public HTTPS URL"],
      ["datumctl ctx use", "work somewhere else"],
      ["datumctl --help", "every command"],
    ]
    : [
      ["datumctl ctx use", "choose an organization or project to work in"],
      ["datumctl ctx", "list what you can reach"],
      ["datumctl --help", "every command"],
    ];
  return text + hints(rows);
}
