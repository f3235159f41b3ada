/**
 * What `logout` does to kubectl's config: the users `auth update-kubeconfig` wrote for the
 * sessions just removed would run `datumctl auth get-token --session NAME` for a session that no
 * longer exists, so they go, with every context that uses them and every cluster only those
 * contexts used. Everything else in the file (other users, comments) is kept.
 */
import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { datumctlDir } from "./store/paths.ts";
import { readTextIfExists, withFileLock, writePrivateFile } from "./store/files.ts";
import { kubeconfigUserName } from "./kubeconfig.ts";

/** What {@link pruneKubeconfigSessions} did. */
export interface KubeconfigPruneResult {
  path: string;
  /** Names of the removed users, contexts and clusters. */
  users: string[];
  contexts: string[];
  clusters: string[];
  /** Set when the file could not be read as YAML: it was left untouched. */
  unreadable?: string;
}

/** The `--session NAME` an exec user passes to `auth get-token`, if it is one of ours. */
function sessionOfExecUser(user: YAMLMap): string | undefined {
  const exec = (user.get("user") as YAMLMap | undefined)?.get?.("exec");
  if (!isMap(exec)) return undefined;
  const args = exec.get("args");
  if (!isSeq(args)) return undefined;
  const values = args.items.map((item) => String((item as { value?: unknown }).value ?? item));
  if (!values.includes("get-token")) return undefined;
  const at = values.indexOf("--session");
  return at >= 0 ? values[at + 1] : undefined;
}

function namedItems(seq: unknown): YAMLMap[] {
  return isSeq(seq) ? (seq as YAMLSeq).items.filter((item): item is YAMLMap => isMap(item)) : [];
}

function removeNamed(seq: unknown, names: Set<string>): void {
  if (!isSeq(seq)) return;
  seq.items = seq.items.filter((item) => !(isMap(item) && names.has(String(item.get("name")))));
}

/**
 * Removes the kubeconfig users of `sessions` (by name, or by the `--session` their exec
 * command passes), the contexts using them and clusters no remaining context uses, from the
 * kubeconfig at `path` (`"all"`: every user whose exec command is datumctl's
 * `auth get-token --session`). A missing file is nothing to do; a file that is not valid YAML is left
 * as it is and reported in {@link KubeconfigPruneResult.unreadable}.
 */
export async function pruneKubeconfigSessions(
  path: string,
  sessions: string[] | "all",
  env: (name: string) => string | undefined = Deno.env.get,
): Promise<KubeconfigPruneResult> {
  const result: KubeconfigPruneResult = { path, users: [], contexts: [], clusters: [] };
  if (sessions.length === 0) return result;
  const gone = new Set(sessions === "all" ? [] : sessions);
  const userNames = new Set(sessions === "all" ? [] : sessions.map(kubeconfigUserName));
  const isGone = (user: YAMLMap) => {
    const session = sessionOfExecUser(user);
    if (sessions === "all") return session !== undefined;
    return userNames.has(String(user.get("name"))) || (session !== undefined && gone.has(session));
  };
  // The same lock `auth update-kubeconfig` writes under.
  return await withFileLock(`${datumctlDir(env)}/kubeconfig-update`, async () => {
    const text = await readTextIfExists(path);
    if (text === undefined || text.trim() === "") return result;
    const doc = parseDocument(text);
    if (doc.errors.length > 0 || !isMap(doc.contents)) {
      result.unreadable = doc.errors[0]?.message.split("\n")[0] ?? "not a mapping";
      return result;
    }
    const users = new Set(
      namedItems(doc.get("users", true))
        .filter(isGone)
        .map((u) => String(u.get("name"))),
    );
    if (users.size === 0) return result;
    const contextItems = namedItems(doc.get("contexts", true));
    const contexts = new Set(
      contextItems
        .filter((c) => users.has(String((c.get("context") as YAMLMap | undefined)?.get?.("user"))))
        .map((c) => String(c.get("name"))),
    );
    const clusterOf = (c: YAMLMap) =>
      String((c.get("context") as YAMLMap | undefined)?.get?.("cluster"));
    const stillUsed = new Set(
      contextItems.filter((c) => !contexts.has(String(c.get("name")))).map(clusterOf),
    );
    const clusters = new Set(
      contextItems.filter((c) => contexts.has(String(c.get("name")))).map(clusterOf)
        .filter((name) => !stillUsed.has(name)),
    );
    removeNamed(doc.get("users", true), users);
    removeNamed(doc.get("contexts", true), contexts);
    removeNamed(doc.get("clusters", true), clusters);
    if (contexts.has(String(doc.get("current-context")))) doc.set("current-context", "");
    await writePrivateFile(path, doc.toString({ indentSeq: false, lineWidth: 0 }));
    return { path, users: [...users], contexts: [...contexts], clusters: [...clusters] };
  });
}
