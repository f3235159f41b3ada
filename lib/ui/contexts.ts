/**
 * How contexts look to people: the `ctx` table, the login summary ("You have access to N
 * organizations"), the switch message and the filterable context picker.
 *
 * The picker loads the prompter (lib/ui/prompter.ts) only when called, so `ctx` from cache
 * stays light; it draws on stderr so stdout stays clean for results.
 */
import type { ContextView } from "../scope/contexts.ts";
import type { AccessSummary } from "../scope/login-contexts.ts";
import { labelled } from "./output.ts";
import { renderTable } from "./table.ts";
import { sanitizeForTerminal } from "./terminal-text.ts";
import type { IO } from "../core/io.ts";

/**
 * The `ctx` table: ORGANIZATION, PROJECT, TYPE, CURRENT (display names with ids), with a leading
 * USER column when several sessions are shown.
 */
export async function renderContextTable(
  views: ContextView[],
  options: { withUser?: boolean } = {},
): Promise<string> {
  const endpoints = new Set(views.map((v) => v.endpoint));
  const headers = ["ORGANIZATION", "PROJECT", "TYPE", "CURRENT"];
  const rows = views.map((v) => [
    labelled(v.organization.displayName, v.organization.id),
    v.project ? labelled(v.project.displayName, v.project.id) : "",
    v.type === "project" ? "project" : "org",
    v.current ? "*" : "",
  ]);
  if (!options.withUser) return await renderTable(headers, rows);
  return await renderTable(
    ["USER", ...headers],
    views.map((v, i) => [
      endpoints.size > 1 ? `${v.email ?? v.session} (${v.endpoint})` : v.email ?? v.session,
      ...rows[i],
    ]),
  );
}

/**
 * `You have access to 2 organizations:` followed by `  acme-corp (3 projects)` lines, ids padded
 * to one column.
 */
export function renderAccessSummary(summary: AccessSummary): string {
  const n = summary.organizations.length;
  const ids = summary.organizations.map((o) => sanitizeForTerminal(o.id));
  const width = Math.max(0, ...ids.map((id) => id.length));
  const lines = summary.organizations.map((o, i) =>
    `  ${ids[i].padEnd(width)} (${o.projectCount} ${o.projectCount === 1 ? "project" : "projects"})`
  );
  return `You have access to ${n} ${n === 1 ? "organization" : "organizations"}:\n${
    lines.join("\n")
  }\n`;
}

/** `Switched to project Web App in ACME Corp (acme-corp/web-app)` or the organization form. */
export function switchedMessage(view: ContextView): string {
  if (view.project) {
    return `Switched to project ${view.project.displayName} in ${view.organization.displayName} (${view.ref})`;
  }
  return `Switched to organization ${view.organization.displayName} (${view.ref})`;
}

function pickerLabel(view: ContextView): string {
  const mark = view.current ? "*" : " ";
  if (!view.project) {
    return sanitizeForTerminal(
      `${mark} ${labelled(view.organization.displayName, view.organization.id)}  (org)`,
    );
  }
  return sanitizeForTerminal(`${mark}   ${view.project.displayName} (${view.ref})`);
}

/**
 * Asks for one context on a TTY with a filterable list: organizations, their projects indented
 * below, the current one marked `*` and preselected. Returns the chosen context's stored name.
 * Without a TTY it throws a usage error naming `flag`.
 */
export async function pickContext(
  io: IO,
  views: ContextView[],
  options: { message?: string; flag: string },
): Promise<string> {
  // A computed specifier: `datumctl ctx` (no picker) does not load the prompter.
  const specifier = "./prompter.ts";
  const { prompter } = await import(specifier) as typeof import("./prompter.ts");
  const choices = views.map((v) => ({
    value: v.name,
    name: pickerLabel(v),
    short: sanitizeForTerminal(v.ref),
    haystack: [
      v.organization.id,
      v.organization.displayName,
      v.project?.id ?? "",
      v.project?.displayName ?? "",
      v.ref,
    ].join(" ").toLowerCase(),
  }));
  return await prompter(io).search<string>({
    message: options.message ?? "Select a context to work in:",
    source: (term) => {
      const words = (term ?? "").toLowerCase().split(/\s+/).filter(Boolean);
      return choices
        .filter((c) => words.every((w) => c.haystack.includes(w)))
        .map(({ value, name, short }) => ({ value, name, short }));
    },
    default: views.find((v) => v.current)?.name,
    pageSize: 15,
    withoutTerminal: {
      message: "choosing a context needs a terminal",
      hint: `Pass ${options.flag}; run 'datumctl ctx' to list the contexts.`,
    },
  });
}
