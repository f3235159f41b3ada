/**
 * `deno task engine`: builds the tunnel engine (engine/, a Rust Node-API module) for this
 * machine and installs it as `engine/dist/datumctl_engine.<os>-<arch>.node`, where
 * lib/tunnel/engine.ts loads it from.
 *
 *   deno task engine [--if-stale]
 *
 * `--if-stale` does nothing when the installed module is newer than every engine source
 * (`src/`, `build.rs`, `Cargo.toml`, `Cargo.lock`). Cargo's build folder is shared per machine
 * ({@link cargoTargetDir}) so that checkouts, CI runs and `cargo test` reuse one another's work:
 * a first release build of iroh takes many minutes on two cores.
 *
 * `scripts/test.ts` runs `cargo test` with the same build folder.
 */
import { fileURLToPath } from "node:url";
import { cacheDir } from "../lib/store/paths.ts";
import { engineFileName } from "../lib/tunnel/engine.ts";

const ENGINE_DIR = new URL("../engine/", import.meta.url);

/** `$CARGO_TARGET_DIR`, else `<user cache>/datumctl/cargo-target`. */
export function cargoTargetDir(env: (name: string) => string | undefined = Deno.env.get): string {
  return env("CARGO_TARGET_DIR") || `${cacheDir(env)}/cargo-target`;
}

/** The file name cargo gives the cdylib on this OS. */
function cdylibName(): string {
  switch (Deno.build.os) {
    case "windows":
      return "datumctl_engine.dll";
    case "darwin":
      return "libdatumctl_engine.dylib";
    default:
      return "libdatumctl_engine.so";
  }
}

async function newestSource(dir: URL): Promise<number> {
  let newest = 0;
  const visit = async (url: URL) => {
    const info = await Deno.stat(url);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(url)) {
        await visit(new URL(entry.name + (entry.isDirectory ? "/" : ""), url));
      }
    } else {
      newest = Math.max(newest, info.mtime?.getTime() ?? 0);
    }
  };
  for (const name of ["src/", "build.rs", "Cargo.toml", "Cargo.lock"]) {
    try {
      await visit(new URL(name, dir));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return newest;
}

async function modifiedAt(url: URL): Promise<number | undefined> {
  try {
    return (await Deno.stat(url)).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/** Builds (unless fresh and `ifStale`) and installs the engine; returns the installed path. */
export async function buildEngine(opts: { ifStale?: boolean } = {}): Promise<string> {
  const output = new URL(`dist/${engineFileName()}`, ENGINE_DIR);
  const outputPath = fileURLToPath(output);
  if (opts.ifStale) {
    const built = await modifiedAt(output);
    if (built !== undefined && built >= await newestSource(ENGINE_DIR)) {
      console.error(`engine is up to date: ${outputPath}`);
      return outputPath;
    }
  }
  const targetDir = cargoTargetDir();
  console.error(`building the tunnel engine (CARGO_TARGET_DIR=${targetDir})`);
  const status = await new Deno.Command("cargo", {
    args: ["build", "--release", "--locked"],
    cwd: fileURLToPath(ENGINE_DIR),
    env: { CARGO_TARGET_DIR: targetDir },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) throw new Error(`cargo build failed (exit ${status.code})`);

  await Deno.mkdir(new URL("dist/", ENGINE_DIR), { recursive: true });
  // Copy then rename: a process that has the old module loaded keeps a valid mapping.
  const staging = `${outputPath}.${Deno.pid}.tmp`;
  await Deno.copyFile(`${targetDir}/release/${cdylibName()}`, staging);
  await Deno.rename(staging, outputPath);
  console.error(`installed ${outputPath}`);
  return outputPath;
}

if (import.meta.main) {
  try {
    await buildEngine({ ifStale: Deno.args.includes("--if-stale") });
  } catch (err) {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
