/**
 * `config view`: the config file as a person may share it, like `kubectl config view`:
 * certificate data and anything that looks like a secret are replaced, and `minify` keeps only
 * the current context and its session.
 *
 * The credentials themselves are never in this file (they are in the credential store); the
 * redaction guards against fields other tools may have added.
 */
import type { DatumctlConfig } from "./config.ts";

/** kubectl's placeholders for left-out data and secrets. */
const OMITTED = "DATA+OMITTED";
const REDACTED = "REDACTED";

const SECRET_KEY = /token|secret|password|passwd|private|client-key|credential/i;
const DATA_KEY = /-data$|Data$/;

function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string" && value !== "") {
    if (DATA_KEY.test(key)) return OMITTED;
    if (SECRET_KEY.test(key)) return REDACTED;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/**
 * The config to print: redacted unless `raw`, and with `minify` only the current context, its
 * session and that session's cache entries.
 */
export function viewConfig(
  config: DatumctlConfig,
  options: { raw?: boolean; minify?: boolean } = {},
): Record<string, unknown> {
  let view: DatumctlConfig = structuredClone(config);
  if (options.minify) {
    const current = view.contexts.find((c) => c.name === view["current-context"]);
    const sessionName = current?.session ?? view["active-session"];
    view = {
      ...view,
      sessions: view.sessions.filter((s) => s.name === sessionName),
      contexts: current ? [current] : [],
      cache: {
        ...view.cache,
        organizations: view.cache.organizations.filter((o) => o.session === sessionName),
        projects: view.cache.projects.filter((p) => p.session === sessionName),
      },
    };
  }
  return (options.raw ? view : redact(view)) as Record<string, unknown>;
}
