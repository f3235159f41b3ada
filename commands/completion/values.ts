/**
 * The values a TAB offers that the command tree does not hold: context names (from
 * ~/.datumctl/config) and the tunnel ids this machine knows (`<repo>/state.yml`). No network:
 * TAB must answer at once. Free of commander, so main.ts can answer a TAB without the tree.
 */
import type { Candidate, CompletionValues } from "../../lib/ui/completion.ts";

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

/** The context names, and the tunnel ids when the words are under `tunnel`. */
export async function localValues(words: string[]): Promise<CompletionValues> {
  const wantsTunnels = words.includes("tunnel");
  const [contexts, tunnelIds] = await Promise.all([
    contextCandidates(),
    wantsTunnels ? tunnelCandidates() : Promise.resolve([]),
  ]);
  return { contexts, tunnelIds };
}
