/**
 * The input and output schemas of the `datumctl mcp` tools (zod 4, turned into JSON Schema by
 * the MCP SDK), and the TypeScript types inferred from them so the tool code in `tools.ts`
 * cannot drift from what `tools/list` advertises.
 *
 * Each tool has one `*Input` raw shape and one `*Output` object schema, plus their types. Loaded
 * only by `lib/mcp/server.ts`, which `datumctl mcp` imports inside its action.
 */
import { z } from "zod";

const scopeFields = {
  project: z.string().min(1).optional().describe(
    "Run this call in another project (id), e.g. 'web-app'. Default: the server's scope.",
  ),
  organization: z.string().min(1).optional().describe(
    "Run this call in an organization (id) instead, e.g. 'acme-corp'. Give project or " +
      "organization, not both.",
  ),
};

const typeField = z.string().min(1).describe(
  "Resource type as kubectl accepts it: plural ('httpproxies'), singular, short name ('tpp'), " +
    "Kind ('HTTPProxy') or qualified ('httpproxies.networking.datumapis.com'). " +
    "'organizations' lists your organizations; 'projects' lists the projects of the scope's " +
    "organization. See list_resource_types for the rest.",
);

const named = z.object({ id: z.string(), displayName: z.string() });

/** The scope a tool call ran in. */
export const ScopeSchema = z.object({
  kind: z.enum(["user", "organization", "project"]),
  ref: z.string().nullable().describe("'org' or 'org/project'"),
  organization: named.nullable(),
  project: named.nullable(),
  reason: z.string().describe("why this scope, e.g. 'from the current context'"),
});

const KubeObjectSchema = z.record(z.string(), z.unknown());

const TypeSchema = z.object({
  name: z.string().describe("plural, qualified with the group when it has one"),
  kind: z.string(),
  apiVersion: z.string(),
  namespaced: z.boolean(),
});

// ---------------------------------------------------------------------------------------------

/** `whoami` takes no arguments. */
export const WhoamiInput = {};

/** `whoami` output. */
export const WhoamiOutput = z.object({
  user: z.object({
    email: z.string(),
    name: z.string().nullable(),
    subject: z.string().nullable(),
  }),
  endpoint: z.string().describe("API server, e.g. https://api.datum.net"),
  session: z.string().nullable().describe("the datumctl login session, if one is used"),
  credentials: z.string().describe("session, service-account, DATUM_TOKEN or DATUM_CREDENTIALS"),
  scope: ScopeSchema.nullable().describe("null when no context is selected"),
  scopeError: z.string().nullable().describe("why there is no scope, when there is none"),
  readOnly: z.boolean().describe("true when apply and delete are refused"),
});
/** What `whoami` returns. */
export type WhoamiResult = z.infer<typeof WhoamiOutput>;

/** `list_contexts` input. */
export const ListContextsInput = {
  all: z.boolean().optional().describe("Include the contexts of every login session."),
  refresh: z.boolean().optional().describe(
    "Discover organizations and projects from the API again (e.g. after creating a project).",
  ),
};

const ContextSchema = z.object({
  ref: z.string().describe("'org' or 'org/project': pass the project part as 'project'"),
  type: z.enum(["organization", "project"]),
  organization: named,
  project: named.nullable(),
  session: z.string(),
  email: z.string().nullable(),
  current: z.boolean().describe("the user's current context ('datumctl ctx use')"),
});

/** `list_contexts` output. */
export const ListContextsOutput = z.object({
  contexts: z.array(ContextSchema),
  serverScope: z.string().nullable().describe("the scope this MCP server uses by default"),
});
/** What `list_contexts` returns. */
export type ListContextsResult = z.infer<typeof ListContextsOutput>;

/** `list_resource_types` input. */
export const ListResourceTypesInput = {
  apiGroup: z.string().optional().describe(
    "Only types of this API group, e.g. 'networking.datumapis.com' ('' for core).",
  ),
  ...scopeFields,
};

/** `list_resource_types` output. */
export const ListResourceTypesOutput = z.object({
  scope: ScopeSchema,
  types: z.array(z.object({
    name: z.string().describe("plural, the name to pass as 'type'"),
    qualifiedName: z.string().describe("plural.group, unambiguous"),
    kind: z.string(),
    apiVersion: z.string(),
    namespaced: z.boolean(),
    shortNames: z.array(z.string()),
    verbs: z.array(z.string()),
  })),
});
/** What `list_resource_types` returns. */
export type ListResourceTypesResult = z.infer<typeof ListResourceTypesOutput>;

/** `get` input. */
export const GetInput = {
  type: typeField,
  name: z.string().min(1).optional().describe("One object by name; omit to list."),
  labelSelector: z.string().optional().describe("When listing: e.g. 'app=web,tier!=db'."),
  fieldSelector: z.string().optional().describe("When listing: e.g. 'metadata.name=web'."),
  ...scopeFields,
};

/** `get` output. */
export const GetOutput = z.object({
  scope: ScopeSchema,
  type: TypeSchema,
  count: z.number().int(),
  items: z.array(KubeObjectSchema).describe("the objects (metadata.managedFields left out)"),
});
/** What `get` returns. */
export type GetResult = z.infer<typeof GetOutput>;

/** `describe` input. */
export const DescribeInput = {
  type: typeField,
  name: z.string().min(1).optional().describe("One object by name; omit to describe all."),
  labelSelector: z.string().optional().describe("When no name: e.g. 'app=web'."),
  ...scopeFields,
};

/** `describe` output. */
export const DescribeOutput = z.object({
  scope: ScopeSchema,
  type: TypeSchema,
  descriptions: z.array(z.object({ name: z.string(), text: z.string() })),
});
/** What `describe` returns. */
export type DescribeResult = z.infer<typeof DescribeOutput>;

/** `apply` input. */
export const ApplyInput = {
  manifest: z.string().min(1).describe(
    "The objects as YAML or JSON text; several YAML documents separated by '---' are " +
      "applied in order. Each needs apiVersion, kind and metadata.name.",
  ),
  dryRun: z.boolean().optional().describe(
    "Validate on the server and show the result without storing anything.",
  ),
  forceConflicts: z.boolean().optional().describe(
    "Take over fields another field manager owns (only after a conflict error).",
  ),
  ...scopeFields,
};

const WriteResultSchema = z.object({
  ref: z.string().describe("kind.group/name, e.g. httpproxy.networking/web"),
  action: z.string().describe("created, configured, unchanged or deleted"),
  dryRun: z.boolean(),
});

/** `apply` output. */
export const ApplyOutput = z.object({
  scope: ScopeSchema,
  results: z.array(WriteResultSchema.extend({
    object: KubeObjectSchema.nullable().describe("the object as stored (managedFields left out)"),
  })),
});
/** What `apply` returns. */
export type ApplyResult = z.infer<typeof ApplyOutput>;

/** `delete` input. */
export const DeleteInput = {
  type: typeField,
  name: z.string().min(1).describe("The object to delete."),
  dryRun: z.boolean().optional().describe("Check on the server without deleting."),
  ...scopeFields,
};

/** `delete` output. */
export const DeleteOutput = z.object({
  scope: ScopeSchema,
  result: WriteResultSchema,
});
/** What `delete` returns. */
export type DeleteResult = z.infer<typeof DeleteOutput>;

/** `list_tunnels` input. */
export const ListTunnelsInput = {
  project: scopeFields.project,
};

/** `list_tunnels` output. */
export const ListTunnelsOutput = z.object({
  project: z.string(),
  tunnels: z.array(z.object({
    id: z.string().describe("the HTTPProxy name"),
    label: z.string(),
    endpoint: z.string().describe("the local service, e.g. http://localhost:8080"),
    hostnames: z.array(z.string()).describe("public hostnames"),
    enabled: z.boolean(),
    state: z.enum(["ready", "accepted", "pending"]),
  })),
});
/** What `list_tunnels` returns. */
export type ListTunnelsResult = z.infer<typeof ListTunnelsOutput>;
