/**
 * kubectl access with a datumctl login: the entries `auth update-kubeconfig` writes.
 *
 * The file is `--kubeconfig`, else `$KUBECONFIG`, else `~/.kube/config`; kubectl runs this very
 * datumctl as its credential command (compiled or from source), and a missing target is refused
 * before anything is written. Each session gets one cluster, one context (made current) and one
 * user, added or replaced while every other entry and comment in the file is kept, and the file is
 * written atomically.
 */
import { subjectOf } from "./auth/token-source.ts";
import { type Document, isMap, isSeq, parseDocument, type YAMLMap } from "yaml";
import { datumctlDir, homeDir } from "./store/paths.ts";
import { readTextIfExists, withFileLock, writePrivateFile } from "./store/files.ts";
import { CliError, ExitCode } from "./core/errors.ts";
import { ApiError } from "./api/errors.ts";
import {
  organizationControlPlaneUrl,
  RESOURCE_MANAGER_GROUP,
  userControlPlaneUrl,
} from "./api/urls.ts";
import type { OpenedScope } from "./scope/open.ts";
import { type SelfCommand, selfCommand } from "./process/self-command.ts";

/** kubectl's `interactiveMode` values for exec plugins. */
export const INTERACTIVE_MODES = ["Never", "IfAvailable", "Always"] as const;
/** One of {@link INTERACTIVE_MODES}. */
export type InteractiveMode = (typeof INTERACTIVE_MODES)[number];

/** The exec credential API version kubectl and `auth get-token` speak. */
export const EXEC_API_VERSION = "client.authentication.k8s.io/v1";

/** The kubeconfig file to edit: the flag, else the first path of `$KUBECONFIG`, else `~/.kube/config`. */
export function kubeconfigPath(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): string {
  if (flag) return flag;
  const list = env("KUBECONFIG");
  const first = list?.split(Deno.build.os === "windows" ? ";" : ":").find((p) => p.trim() !== "");
  if (first) return first;
  return `${homeDir(env)}/.kube/config`;
}

/** The program and leading arguments that run this datumctl. */
export type CredentialCommand = SelfCommand;

/** How kubectl starts this datumctl (see {@link selfCommand}). */
export function credentialCommand(
  execPath: string = Deno.execPath(),
  mainModule: string = Deno.mainModule,
): CredentialCommand {
  return selfCommand(execPath, mainModule);
}

/** The kubeconfig user of one session (one per session, so sessions never overwrite each other). */
export function kubeconfigUserName(sessionName: string): string {
  return `datum-user-${sessionName}`;
}

/** What {@link writeKubeconfigEntries} writes. */
export interface KubeconfigEntries {
  path: string;
  /** `datum-project-<id>` or `datum-organization-<id>`: the cluster and the context. */
  name: string;
  /** The control-plane URL with scheme. */
  server: string;
  /**
   * The session the exec plugin asks for; undefined when the credentials come from the
   * environment (`DATUM_TOKEN` / `DATUM_CREDENTIALS`), which kubectl passes on to the plugin.
   */
  sessionName?: string;
  /** The kubeconfig user name when there is no session (e.g. `datum-env-token`). */
  userName?: string;
  interactiveMode: InteractiveMode;
  /** TLS settings of the session's endpoint, copied onto the cluster. */
  tls?: {
    certificateAuthorityData?: string;
    insecureSkipTlsVerify?: boolean;
    tlsServerName?: string;
  };
  command?: CredentialCommand;
}

/** What was written. */
export interface KubeconfigResult {
  path: string;
  cluster: string;
  context: string;
  user: string;
  /** True when the file did not exist before. */
  created: boolean;
}

function parseError(path: string, message: string, line?: number): CliError {
  return new CliError(
    "KUBECONFIG_INVALID",
    `cannot parse ${path}${line ? ` (line ${line})` : ""}: ${message}`,
    {
      hint:
        "Fix the file or pass --kubeconfig PATH; datumctl never overwrites a file it cannot read.",
      exitCode: ExitCode.dataError,
    },
  );
}

function loadDocument(text: string | undefined, path: string): Document {
  if (text === undefined || text.trim() === "") {
    return parseDocument(
      'apiVersion: v1\nkind: Config\npreferences: {}\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: ""\n',
    );
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw parseError(path, first.message.split("\n")[0], first.linePos?.[0]?.line);
  }
  if (!isMap(doc.contents)) throw parseError(path, "expected a mapping at the top");
  return doc;
}

/** Adds or replaces the `{name, <key>: value}` entry of a named list (clusters, contexts, users). */
function upsertNamed(doc: Document, list: string, name: string, key: string, value: unknown): void {
  let seq = doc.get(list, true);
  if (seq === undefined || seq === null || (!isSeq(seq) && isEmptyScalar(seq))) {
    doc.set(list, doc.createNode([]));
    seq = doc.get(list, true);
  }
  if (!isSeq(seq)) throw parseError("kubeconfig", `"${list}" is not a list`);
  const existing = seq.items.find((item) =>
    isMap(item) && (item as YAMLMap).get("name") === name
  ) as
    | YAMLMap
    | undefined;
  if (existing) existing.set(key, doc.createNode(value));
  else seq.items.push(doc.createNode({ name, [key]: value }));
  // A list written as `[]` would stay in flow style with a block entry inside.
  seq.flow = false;
}

function isEmptyScalar(node: unknown): boolean {
  return typeof node === "object" && node !== null && "value" in node &&
    ((node as { value: unknown }).value === null || (node as { value: unknown }).value === "");
}

/**
 * Adds or replaces the cluster, context (made current) and the session's user in a kubeconfig,
 * keeping everything else, under a lock and with an atomic write.
 */
export async function writeKubeconfigEntries(
  entries: KubeconfigEntries,
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<KubeconfigResult> {
  const user = entries.sessionName
    ? kubeconfigUserName(entries.sessionName)
    : entries.userName ?? "datum-env";
  const command = entries.command ?? credentialCommand();
  // kubectl locks with an O_EXCL `<kubeconfig>.lock` it deletes afterwards; a lock file we leave
  // behind there would block kubectl, so our lock lives in datumctl's own folder.
  return await withFileLock(`${datumctlDir(env)}/kubeconfig-update`, async () => {
    const text = await readTextIfExists(entries.path);
    const doc = loadDocument(text, entries.path);

    const cluster: Record<string, unknown> = { server: entries.server };
    if (entries.tls?.certificateAuthorityData) {
      cluster["certificate-authority-data"] = entries.tls.certificateAuthorityData;
    }
    if (entries.tls?.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
    if (entries.tls?.tlsServerName) cluster["tls-server-name"] = entries.tls.tlsServerName;
    upsertNamed(doc, "clusters", entries.name, "cluster", cluster);
    upsertNamed(doc, "contexts", entries.name, "context", {
      cluster: entries.name,
      user,
      namespace: "default",
    });
    upsertNamed(doc, "users", user, "user", {
      exec: {
        apiVersion: EXEC_API_VERSION,
        command: command.command,
        args: [
          ...command.args,
          "auth",
          "get-token",
          "-o",
          EXEC_API_VERSION,
          ...(entries.sessionName ? ["--session", entries.sessionName] : []),
        ],
        env: null,
        interactiveMode: entries.interactiveMode,
        provideClusterInfo: false,
        installHint: "datumctl is needed to sign in to Datum Cloud. Install it from " +
          "https://github.com/datum-cloud/datumctl and run 'datumctl login'.",
      },
    });
    doc.set("current-context", entries.name);
    if (!doc.has("apiVersion")) doc.set("apiVersion", "v1");
    if (!doc.has("kind")) doc.set("kind", "Config");
    await writePrivateFile(entries.path, doc.toString({ indentSeq: false, lineWidth: 0 }));
    return {
      path: entries.path,
      cluster: entries.name,
      context: entries.name,
      user,
      created: text === undefined,
    };
  });
}

/**
 * Checks that the project or organization a kubeconfig entry will point at exists and is
 * visible to the login: the project through its organization's control plane when the
 * organization is known (else its own control plane's namespace `default`), the organization on
 * the user control plane.
 */
export async function assertScopeExists(opened: OpenedScope): Promise<void> {
  const { scope, auth, client } = opened;
  const missing = (what: string, hint: string) =>
    new CliError("SCOPE_NOT_FOUND", `${what} does not exist or you cannot access it`, {
      hint,
      exitCode: ExitCode.error,
    });
  const absent = (err: unknown) =>
    err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 403);
  try {
    if (scope.kind === "project") {
      const id = scope.projectId!;
      if (scope.organizationId) {
        await client.withBase(organizationControlPlaneUrl(auth.apiBase, scope.organizationId)).get(
          `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/projects/${encodeURIComponent(id)}`,
        );
      } else {
        // Datum serves any project id, an unknown one as an empty plane without namespaces:
        // its namespace `default` is what tells a real project apart.
        await client.get("/api/v1/namespaces/default");
      }
    } else if (scope.kind === "organization") {
      await client.withBase(userControlPlaneUrl(auth.apiBase, subjectOf(auth))).get(
        `/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizations/${
          encodeURIComponent(scope.organizationId!)
        }`,
      );
    }
  } catch (err) {
    if (!absent(err)) throw err;
    if (scope.kind === "project") {
      throw missing(
        `project "${scope.projectId}"${
          scope.organizationId ? ` in organization "${scope.organizationId}"` : ""
        }`,
        "Run 'datumctl ctx --refresh' and 'datumctl ctx' to list the projects you can use.",
      );
    }
    throw missing(
      `organization "${scope.organizationId}"`,
      "Run 'datumctl get organizations' to list yours.",
    );
  }
}
