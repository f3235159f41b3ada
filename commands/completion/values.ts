/**
 * The values a TAB offers that the command tree does not hold: context names and the refs `ctx`
 * shows (from ~/.datumctl/config), resource types (the discovery cache), and the tunnel ids and
 * names this machine knows (`<repo>/state.yml`, the named tunnels' folders). No network:
 * TAB must answer at once. Free of commander, so main.ts can answer a TAB without the tree.
 */
import { type Candidate, type CompletionValues, TYPE_VERBS } from "../../lib/ui/completion.ts";

async function contextCandidates(): Promise<Candidate[]> {
  try {
    const { loadConfig } = await import("../../lib/store/config.ts");
    const config = await loadConfig();
    return config.contexts.map((c) => ({ value: c.name, description: c.session }));
  } catch {
    // A missing or broken config must not break TAB; `ctx` reports it properly.
    return [];
  }
}

async function tunnelCandidates(): Promise<Candidate[]> {
  try {
    // A computed specifier: the state file's yaml package must not load (or be resolved) for
    // the TABs that never ask for tunnel ids.
    const specifier = "../../lib/tunnel/state.ts";
    const { readTunnelState } = await import(
      specifier
    ) as typeof import("../../lib/tunnel/state.ts");
    const { connectRepo } = await import("../../lib/tunnel/keys.ts");
    const entries = await readTunnelState(connectRepo(undefined));
    return entries.map((e) => ({ value: e.id, description: e.label }));
  } catch {
    return [];
  }
}

/**
 * `import()` by a computed specifier: a literal one is loaded by `deno run` before the program
 * starts, for every TAB. scripts/compile.ts embeds these (`COMPUTED_IMPORTS` in ../groups.ts).
 */
function importModule<T>(specifier: string): Promise<T> {
  return import(specifier);
}

/** The refs `ctx` shows (`org`, `org/project`) of the active login, with display names. */
async function contextRefCandidates(): Promise<Candidate[]> {
  try {
    const [{ loadConfig }, { contextViews }, { activeSession }] = await Promise.all([
      import("../../lib/store/config.ts"),
      importModule<typeof import("../../lib/scope/contexts.ts")>("../../lib/scope/contexts.ts"),
      importModule<typeof import("../../lib/store/active-session.ts")>(
        "../../lib/store/active-session.ts",
      ),
    ]);
    const config = await loadConfig();
    const active = activeSession(config)?.name;
    if (!active) return [];
    return contextViews(config, [active]).map((v) => ({
      value: v.ref,
      description: v.project ? v.project.displayName : v.organization.displayName,
    }));
  } catch {
    return [];
  }
}

async function tunnelNameCandidates(): Promise<Candidate[]> {
  try {
    const { listNamedTunnelNames } = await importModule<
      typeof import("../../lib/tunnel/daemon/record.ts")
    >("../../lib/tunnel/daemon/record.ts");
    return (await listNamedTunnelNames()).map((value) => ({ value }));
  } catch {
    return [];
  }
}

async function resourceTypeCandidates(): Promise<Candidate[]> {
  try {
    const { cachedTypeNames } = await importModule<
      typeof import("../../lib/resources/type-names.ts")
    >("../../lib/resources/type-names.ts");
    return await cachedTypeNames();
  } catch {
    return [];
  }
}

/** The values the words may ask for: tunnel ids and names only under `tunnel`. */
export async function localValues(words: string[]): Promise<CompletionValues> {
  const wantsTunnels = words.includes("tunnel");
  // Each lookup loads modules and reads files: only the ones this TAB can offer run.
  const wantsRefs = words.some((w) => ["ctx", "context", "--context"].includes(w)) ||
    words.some((w) => w.startsWith("--context="));
  const command = words.find((w) => !w.startsWith("-"));
  const wantsTypes = !wantsTunnels && command !== undefined && TYPE_VERBS.includes(command);
  const none = Promise.resolve([] as Candidate[]);
  const [contexts, contextRefs, tunnelIds, tunnelNames, resourceTypes] = await Promise.all([
    contextCandidates(),
    wantsRefs ? contextRefCandidates() : none,
    wantsTunnels ? tunnelCandidates() : none,
    wantsTunnels ? tunnelNameCandidates() : none,
    wantsTypes ? resourceTypeCandidates() : none,
  ]);
  return { contexts, contextRefs, tunnelIds, tunnelNames, resourceTypes };
}
