/**
 * The `yaml` package, loaded only when YAML is read or written: importing it costs more start-up
 * time than all of datumctl's own modules together (it pulls in Deno's Node compatibility layer),
 * and the hot commands (`auth get-token`, `ctx`, `whoami`, completion) print no YAML.
 *
 * Async code calls {@link loadYaml}. Synchronous printers (`-o yaml`) call {@link loadedYaml};
 * the command runner loads the package before any commander-parsed command runs, so they can.
 */

/** The `yaml` module's namespace. */
export type YamlModule = typeof import("yaml");

let loaded: YamlModule | undefined;

/** Imports `yaml` (once) and returns it. */
export async function loadYaml(): Promise<YamlModule> {
  // A computed specifier: `deno run` resolves every npm package a literal `import("…")` names
  // when it loads the importing module, which costs every command that reads the config.
  const specifier = "yaml";
  loaded ??= await import(specifier) as YamlModule;
  return loaded;
}

/** `yaml`, already imported by {@link loadYaml}; throws when nothing loaded it first. */
export function loadedYaml(): YamlModule {
  if (!loaded) {
    throw new Error("internal error: YAML output before the yaml package was loaded (loadYaml)");
  }
  return loaded;
}
