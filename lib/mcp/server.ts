/**
 * The `datumctl mcp` server: the tools of `tools.ts` and a few read-only resources, offered
 * over the Model Context Protocol with the official SDK.
 *
 * This module loads the SDK and zod at import time, so commands import it only inside their action.
 *
 * Failures come back as tool errors (`isError: true`) whose text is exactly what datumctl
 * prints for the same failure (`error: <message>` and the hint line), with the error's code,
 * message, hint and retryability also under `_meta["datum.net/error"]` for programs.
 */
import process from "node:process";
// The SDK's "./*" export maps `x.js` to `x.js.d.ts`, which does not exist: name the types.
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult, ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import type { ScopeInputs } from "../scope/resolve.ts";
import { CliError, toCliError } from "../core/errors.ts";
import type { KubeObject } from "../resources/objects.ts";
import { McpScope, summarizeScope } from "./scope.ts";
import * as schemas from "./schemas.ts";
import {
  ApplyFailure,
  applyManifest,
  deleteResource,
  describeResources,
  getResources,
  listContexts,
  listResourceTypes,
  listTunnels,
  readOnlyRefusal,
  whoami,
} from "./tools.ts";

/** Options of {@link createMcpServer}. */
export interface McpServerOptions {
  /** The global `--project`/`--organization`/`--context` flags and the environment. */
  inputs: ScopeInputs;
  /** Refuse `apply` and `delete`. */
  readOnly: boolean;
  /** datumctl's version, reported to clients. */
  version: string;
  /** Diagnostics for the person who started the server (stderr; never stdout). */
  log: (line: string) => void;
  /** datumctl's text for people, which tool results repeat (the command passes lib/ui's). */
  render: McpRender;
}

/** How datumctl writes for a person what the tools return as text too. */
export interface McpRender {
  /** An error as datumctl prints it: `error: <message>`, then the hint line. */
  error: (err: CliError) => string;
  /** An object as `datumctl describe` prints it. */
  describe: (object: KubeObject) => string;
}

/** A server ready to connect, with the scope it resolved at start. */
export interface DatumMcpServer {
  server: McpServer;
  scope: McpScope;
}

/** The key under which tool errors carry their structured form. */
export const ERROR_META_KEY = "datum.net/error";

function success(structured: Record<string, unknown>, text?: string): CallToolResult {
  return {
    content: [{ type: "text", text: text ?? JSON.stringify(structured) }],
    structuredContent: structured,
  };
}

function errorMeta(err: CliError) {
  return {
    code: err.code,
    message: err.message,
    hint: err.hint ?? null,
    retryable: err.retryable,
  };
}

/**
 * The tool error for a failure: datumctl's own error text (written by `errorText`), plus the
 * error as data.
 */
export function toolError(err: unknown, errorText: McpRender["error"]): CallToolResult {
  if (err instanceof ApplyFailure) {
    const lines = err.applied.map((r) =>
      `${r.ref} ${r.action}${r.dryRun ? " (server dry run)" : ""}`
    );
    const errors = err.failures.map((f) => toCliError(f.error));
    for (const [i, e] of errors.entries()) {
      lines.push(`document ${err.failures[i].document}: ${errorText(e).trimEnd()}`);
    }
    lines.push(`error: ${err.message}`);
    return {
      isError: true,
      content: [{ type: "text", text: lines.join("\n") }],
      _meta: {
        [ERROR_META_KEY]: {
          code: "PARTIAL_FAILURE",
          message: err.message,
          hint: "The objects listed as created, configured or unchanged were applied.",
          retryable: errors.every((e) => e.retryable),
          applied: err.applied.map(({ ref, action, dryRun }) => ({ ref, action, dryRun })),
          failures: errors.map((e, i) => ({ document: err.failures[i].document, ...errorMeta(e) })),
        },
      },
    };
  }
  const e = toCliError(err);
  return {
    isError: true,
    content: [{ type: "text", text: errorText(e).trimEnd() }],
    _meta: { [ERROR_META_KEY]: errorMeta(e) },
  };
}

/** The text line of one write (apply or delete), as `datumctl apply`/`delete` print it. */
function writeLine(write: { ref: string; action: string; dryRun: boolean }): string {
  return `${write.ref} ${write.action}${write.dryRun ? " (server dry run)" : ""}`;
}

function jsonResource(uri: URL, value: unknown): ReadResourceResult {
  return {
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: JSON.stringify(value, null, 2),
    }],
  };
}

function instructionsFor(scope: McpScope, readOnly: boolean): string {
  const where = scope.startup instanceof CliError
    ? `No scope is selected yet (${scope.startup.message}); pass 'project' or 'organization' ` +
      "to scoped tools, or ask the user to run 'datumctl ctx use'."
    : (() => {
      const s = summarizeScope(scope.startup);
      return `Tools work in ${s.kind} ${s.ref} by default; scoped tools accept 'project' or ` +
        "'organization' to work elsewhere for one call (list_contexts shows the choices).";
    })();
  return [
    "Datum Cloud through datumctl, as the user's own login.",
    where,
    "Resources are Kubernetes-style objects: find types with list_resource_types, read with " +
    "get or describe, create or change with apply (server-side apply of YAML/JSON manifests), " +
    "remove with delete.",
    readOnly
      ? "This server is read-only: apply and delete are refused."
      : "apply and delete change real infrastructure: confirm with the user first, and use " +
        "dryRun to preview.",
    "Errors read exactly like datumctl's; their second line is a hint on how to fix them.",
  ].join("\n");
}

/** Builds the server: resolves (and pins) the scope, registers tools and resources. */
export async function createMcpServer(options: McpServerOptions): Promise<DatumMcpServer> {
  const warn = (message: string) => options.log(`warning: ${message}`);
  const scope = await McpScope.start(options.inputs, warn);
  const { readOnly } = options;
  const server = new McpServer(
    { name: "datumctl", title: "Datum Cloud (datumctl)", version: options.version },
    { instructions: instructionsFor(scope, readOnly) },
  );

  /** Runs one tool: refusal under --read-only, result or datumctl's error. */
  const call = async (
    tool: string,
    run: () => Promise<{ structured: Record<string, unknown>; text?: string }>,
    write = false,
  ): Promise<CallToolResult> => {
    try {
      if (write && readOnly) throw readOnlyRefusal(tool);
      const { structured, text } = await run();
      return success(structured, text);
    } catch (err) {
      scope.forgetAfter(err);
      const result = toolError(err, options.render.error);
      const first = result.content[0];
      const lines = first?.type === "text" ? first.text.split("\n") : [];
      options.log(`${tool}: ${lines.findLast((l) => l.startsWith("error: ")) ?? "failed"}`);
      return result;
    }
  };
  const readOnlyNote = readOnly
    ? " Disabled on this server (--read-only): calling it returns an error."
    : "";

  server.registerTool("whoami", {
    title: "Who am I",
    description:
      "Shows the Datum login the tools run as (email, API endpoint, credential kind) and the " +
      "default scope (organization/project) with why it was chosen. Call it first when " +
      "unsure where changes would land.",
    inputSchema: schemas.WhoamiInput,
    outputSchema: schemas.WhoamiOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, () => call("whoami", async () => ({ structured: await whoami(scope, readOnly) })));

  server.registerTool("list_contexts", {
    title: "List contexts",
    description:
      "Lists the organizations and projects the user can work in (from datumctl's cache, " +
      "refreshed when older than an hour or on request), which one is current, and the " +
      "server's default scope. Pass a project id from here as 'project' to other tools.",
    inputSchema: schemas.ListContextsInput,
    outputSchema: schemas.ListContextsOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    call("list_contexts", async () => ({
      structured: await listContexts(scope, args, warn),
    })));

  server.registerTool("list_resource_types", {
    title: "List resource types",
    description: "Lists the resource types the scope's control plane serves (like 'datumctl " +
      "api-resources'): the name to pass as 'type', kind, apiVersion for manifests, whether " +
      "namespaced, and the verbs allowed. A project serves e.g. httpproxies, connectors, " +
      "trafficprotectionpolicies; an organization serves projects.",
    inputSchema: schemas.ListResourceTypesInput,
    outputSchema: schemas.ListResourceTypesOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    call("list_resource_types", async () => ({
      structured: await listResourceTypes(scope, args),
    })));

  server.registerTool("get", {
    title: "Get resources",
    description:
      "Reads resources like 'datumctl get': one object when 'name' is given, else every " +
      "object of the type (filter with labelSelector/fieldSelector). Returns full objects " +
      "(spec and status). type 'organizations' lists the user's organizations with their " +
      "setup status; type 'projects' lists the projects of the scope's organization.",
    inputSchema: schemas.GetInput,
    outputSchema: schemas.GetOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) => call("get", async () => ({ structured: await getResources(scope, args) })));

  server.registerTool("describe", {
    title: "Describe resources",
    description:
      "Human-readable detail of one object (or all of a type) like 'datumctl describe': " +
      "labels, annotations, spec and status conditions as indented text. Prefer 'get' when " +
      "you need exact field values.",
    inputSchema: schemas.DescribeInput,
    outputSchema: schemas.DescribeOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, (args) =>
    call("describe", async () => {
      const result = await describeResources(scope, args, options.render.describe);
      const text = result.descriptions.length > 0
        ? result.descriptions.map((d) => d.text).join("\n")
        : "No resources found.";
      return { structured: result, text };
    }));

  server.registerTool("apply", {
    title: "Apply manifests",
    description:
      "Creates or updates resources from YAML/JSON manifest text with server-side apply " +
      "(field manager 'datumctl'), like 'datumctl apply -f'. Only the fields in the manifest " +
      "are set; apply again with changed fields to update. Reports created, configured or " +
      "unchanged per object. Use dryRun to validate first." + readOnlyNote,
    inputSchema: schemas.ApplyInput,
    outputSchema: schemas.ApplyOutput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    call("apply", async () => {
      const result = await applyManifest(scope, args);
      const text = result.results.map(writeLine).join("\n");
      return { structured: result, text };
    }, true));

  server.registerTool("delete", {
    title: "Delete a resource",
    description:
      "Deletes one object by type and name, like 'datumctl delete TYPE NAME'. This cannot be " +
      "undone; confirm with the user. dryRun checks it on the server without deleting." +
      readOnlyNote,
    inputSchema: schemas.DeleteInput,
    outputSchema: schemas.DeleteOutput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    call("delete", async () => {
      const result = await deleteResource(scope, args);
      const text = writeLine(result.result);
      return { structured: result, text };
    }, true));

  server.registerTool(
    "list_tunnels",
    {
      title: "List tunnels",
      description:
        "Lists this machine's datumctl tunnels in a project (like 'datumctl tunnel list'): " +
        "id, label, local endpoint, public hostnames, enabled and ready state. Tunnels of other " +
        "machines are HTTPProxy objects: use get with type 'httpproxies'.",
      inputSchema: schemas.ListTunnelsInput,
      outputSchema: schemas.ListTunnelsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      call("list_tunnels", async () => ({ structured: await listTunnels(scope, args, warn) })),
  );

  /** A resource's value, or datumctl's error as data (a resource read has no error flag). */
  const readOrError = async (read: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await read();
    } catch (err) {
      scope.forgetAfter(err);
      const e = toCliError(err);
      return { error: errorMeta(e) };
    }
  };

  server.registerResource("current-context", "datum://context/current", {
    title: "Current context",
    description: "Who the tools run as and the default scope (organization/project) with why.",
    mimeType: "application/json",
  }, async (uri) => jsonResource(uri, await readOrError(() => whoami(scope, readOnly))));

  server.registerResource("contexts", "datum://contexts", {
    title: "Contexts",
    description: "The organizations and projects the user can work in.",
    mimeType: "application/json",
  }, async (uri) => jsonResource(uri, await readOrError(() => listContexts(scope, {}, warn))));

  server.registerResource("resource-types", "datum://resource-types", {
    title: "Resource types",
    description: "The resource types the default scope's control plane serves.",
    mimeType: "application/json",
  }, async (uri) => jsonResource(uri, await readOrError(() => listResourceTypes(scope, {}))));

  return { server, scope };
}

/**
 * Serves MCP on stdin/stdout until the client closes stdin (or the connection). Nothing but
 * protocol messages is written to stdout: the transport is its only writer (lib/ never prints,
 * and the SDK's own warnings go to stderr), and diagnostics go to `options.log`.
 */
export async function serveStdio(options: McpServerOptions): Promise<void> {
  const { server, scope } = await createMcpServer(options);
  const mode = options.readOnly ? " (read-only)" : "";
  options.log(
    scope.startup instanceof CliError
      ? `Starting MCP server with no scope${mode}: ${scope.startup.message}`
      : `Starting MCP server for ${
        summarizeScope(scope.startup).ref ?? scope.startup.kind
      }${mode}...`,
  );
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  const onEnd = () => void server.close();
  process.stdin.once("end", onEnd);
  process.stdin.once("close", onEnd);
  await closed;
}
