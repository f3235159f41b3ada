/**
 * `datumctl api PATH`: one authenticated request to a control plane, the way `gh api` works.
 *
 *   api PATH [-X METHOD] [-f key=value]… [-F key=value]… [--input FILE] [-H 'K: V']…
 *            [--paginate] [--jsonpath TEMPLATE] [-i] [--root]
 *
 * PATH is relative to the scope's control plane (`--project`/`--organization`/`--context`, env,
 * current context), or to the API root with `--root`. JSON answers are pretty-printed; other
 * bodies are printed as they came.
 */
import type { Command } from "commander";
import { type CommandContext, scopeInputs } from "../command-context.ts";
import { UsageError } from "../../lib/core/errors.ts";
import type { Field } from "../../lib/api/raw-request.ts";

interface ApiRequestOptions {
  method?: string;
  field: Field[];
  rawField: Field[];
  input?: string;
  header: string[];
  paginate?: boolean;
  jsonpath?: string;
  include?: boolean;
  root?: boolean;
  silent?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readInput(path: string): Promise<string> {
  if (path === "-") return await new Response(Deno.stdin.readable).text();
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new UsageError(
      `cannot read --input ${path}: ${err instanceof Error ? err.message : String(err)}`,
      "Give a readable file, or - for stdin.",
    );
  }
}

function readFieldFile(path: string): string {
  try {
    return path === "-"
      ? new TextDecoder().decode(readAllSync(Deno.stdin))
      : Deno.readTextFileSync(path);
  } catch (err) {
    throw new UsageError(
      `cannot read field file ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function readAllSync(reader: { readSync(p: Uint8Array): number | null }): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (let n = reader.readSync(buf); n !== null; n = reader.readSync(buf)) {
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function apiRequest(
  cmd: Command,
  ctx: CommandContext,
  path: string,
  opts: ApiRequestOptions,
) {
  const [raw, { parseJsonPathTemplate }] = await Promise.all([
    import("../../lib/api/raw-request.ts"),
    import("../../lib/resources/jsonpath.ts"),
  ]);
  const template = opts.jsonpath ? parseJsonPathTemplate(opts.jsonpath) : undefined;
  const fieldList = [...opts.rawField, ...opts.field];
  if (opts.input && fieldList.length > 0) {
    throw new UsageError(
      "--input and -f/-F cannot be combined",
      "Put every field in the --input body.",
    );
  }
  const headers: Record<string, string> = {};
  for (const h of opts.header) {
    const [name, value] = raw.parseHeader(h);
    headers[name.toLowerCase()] = value;
  }
  const fields = raw.parseFields(fieldList, readFieldFile);
  const hasBody = opts.input !== undefined || fieldList.length > 0;
  // As with gh, a body makes the default POST; --paginate reads, so its fields are the query.
  const method = (opts.method ?? (hasBody && !opts.paginate ? "POST" : "GET")).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) {
    throw new UsageError(`invalid method "${opts.method}"`, "Example: -X PATCH");
  }
  if (opts.paginate && method !== "GET") {
    throw new UsageError("--paginate works with GET only");
  }
  let body: unknown;
  let query: Record<string, string | number | boolean | undefined> | undefined;
  if (opts.input !== undefined) {
    body = await readInput(opts.input);
  } else if (fieldList.length > 0) {
    // As with gh: the fields of a GET are its query, of any other method its JSON body.
    if (method === "GET") query = raw.fieldsAsQuery(fields);
    else body = fields;
  }

  const warn = (m: string) => ctx.io.err(`warning: ${m}\n`);
  let client;
  if (opts.root) {
    const [{ openUserPlane }, { apiBaseUrl }] = await Promise.all([
      import("../../lib/resources/open.ts"),
      import("../../lib/api/urls.ts"),
    ]);
    const opened = await openUserPlane(scopeInputs(cmd, ctx.io), warn);
    client = opened.client.withBase(apiBaseUrl(opened.auth.apiBase));
  } else {
    const { openScope, storedAuthLoader } = await import("../../lib/scope/open.ts");
    const inputs = scopeInputs(cmd, ctx.io);
    const opened = await openScope({
      inputs,
      loadAuth: storedAuthLoader(inputs.env, warn),
      onboarding: false,
    });
    client = opened.client;
  }
  const answer = await raw.sendRawRequest(client, {
    method,
    path: path.startsWith("/") ? path : `/${path}`,
    body,
    query,
    headers,
    paginate: opts.paginate,
  });
  if (opts.silent) return;
  let out = "";
  if (opts.include) {
    out += `HTTP ${answer.status} ${answer.statusText}\n`;
    for (const [name, value] of answer.headers) out += `${name}: ${value}\n`;
    out += "\n";
  }
  if (template) {
    if (answer.json === undefined) {
      throw new UsageError(
        "--jsonpath needs a JSON answer",
        "The server answered something else; leave --jsonpath out to see it.",
      );
    }
    const text = template.execute(answer.json);
    out += text.endsWith("\n") || text === "" ? text : `${text}\n`;
  } else if (answer.json !== undefined) {
    out += JSON.stringify(answer.json, null, 2) + "\n";
  } else {
    out += answer.text;
  }
  ctx.io.out(out);
}

/** Adds `api PATH` to the `api` group (beside `api proxy`). */
export function registerApiRequest(api: Command, ctx: CommandContext): void {
  api
    .argument("[path]", "path below the scope's control plane, e.g. /apis/GROUP/VERSION/…")
    .option("-X, --method <method>", "HTTP method (default GET, or POST with fields or --input)")
    .option(
      "-f, --raw-field <key=value>",
      "a string field (repeatable)",
      (value: string, prev: Field[]) => [...prev, { raw: value, typed: false }],
      [],
    )
    .option(
      "-F, --field <key=value>",
      "a typed field: true, false, null, numbers, @file (repeatable)",
      (value: string, prev: Field[]) => [...prev, { raw: value, typed: true }],
      [],
    )
    .option("--input <file>", "send this file (- for stdin) as the body")
    .option("-H, --header <header>", "add a header, 'Name: value' (repeatable)", collect, [])
    .option("--paginate", "follow metadata.continue and print one list with every item")
    .option("--jsonpath <template>", "print only what this JSONPath template selects")
    .option("-i, --include", "print the status line and headers first")
    .option("--silent", "print nothing (the exit status still tells)")
    .option("--root", "PATH is relative to the API root, not the scope's control plane")
    .addHelpText(
      "after",
      `
With no subcommand, 'datumctl api PATH' sends one request as your login, like 'gh api'.
Fields make a JSON body (nested keys as parent[child]=value, arrays as key[]=value); for a GET
they are sent as query parameters. A non-2xx answer prints the server's message and exits
non-zero (77 not allowed, 69 unavailable, 1 otherwise).

Examples:
  datumctl api /apis/networking.datumapis.com/v1alpha1/namespaces/default/httpproxies
  datumctl api /apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors \\
      --paginate -F limit=50 --jsonpath '{.items[*].metadata.name}'
  datumctl api -X PATCH /apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors/c1 \\
      -H 'Content-Type: application/merge-patch+json' -f 'metadata[labels][team]=web'
  datumctl api /apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors \\
      --input connector.json
  datumctl api --root /version`,
    )
    .action(async (path: string | undefined, opts: ApiRequestOptions, cmd: Command) => {
      if (!path) {
        cmd.outputHelp();
        return;
      }
      await apiRequest(cmd, ctx, path, opts);
    });
}
