/**
 * A release folder served over loopback HTTP, for testing install.sh and `datumctl update`
 * without the real release host: `VERSION`, `SHA256SUMS` and a fake `datumctl-<os>-<arch>` per
 * platform (a shell script that prints `datumctl <version>`).
 */
import { assetName, RELEASE_TARGETS } from "../../lib/release/platform.ts";
import { formatSums, sha256Hex } from "../../lib/release/checksums.ts";

/** A running file server; `requests` lists the paths asked for, in order. */
export interface ReleaseServer {
  url: string;
  dir: string;
  requests: string[];
  /** Delay every answer by this many ms (to play a slow server). */
  delayMs: number;
  /** Answers `path` with `respond()` instead of the file (to play a broken or hostile server). */
  answer(path: string, respond: () => Response): void;
  close(): Promise<void>;
}

/** The fake binary's text: a script that answers `--version` like datumctl. */
export function fakeBinary(version: string): string {
  return `#!/bin/sh\necho "datumctl ${version}"\n`;
}

/**
 * Writes a release of `version` into `dir`. `tamper` names an asset whose bytes are changed
 * after the sums were taken.
 */
export async function writeFakeRelease(
  dir: string,
  version: string,
  opts: { tamper?: string } = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const sums: [string, string][] = [];
  for (const t of RELEASE_TARGETS) {
    const name = assetName(t.os, t.arch);
    const bytes = new TextEncoder().encode(fakeBinary(version));
    sums.push([name, await sha256Hex(bytes)]);
    const written = opts.tamper === name ? new TextEncoder().encode(fakeBinary("6.6.6")) : bytes;
    await Deno.writeFile(`${dir}/${name}`, written, { mode: 0o755 });
  }
  await Deno.writeTextFile(`${dir}/SHA256SUMS`, formatSums(sums));
  await Deno.writeTextFile(`${dir}/VERSION`, `${version}\n`);
}

/** Serves `dir` on 127.0.0.1 (GET only; 404 for anything missing). */
export function serveReleaseFolder(dir: string): ReleaseServer {
  const abort = new AbortController();
  const state = { requests: [] as string[], delayMs: 0 };
  const answers = new Map<string, () => Response>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      state.requests.push(path);
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      if (path.includes("..")) return new Response("bad path", { status: 400 });
      const respond = answers.get(path);
      if (respond) return respond();
      try {
        const bytes = await Deno.readFile(`${dir}${path}`);
        return new Response(bytes);
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    dir,
    get requests() {
      return state.requests;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    answer(path, respond) {
      answers.set(path, respond);
    },
    async close() {
      abort.abort();
      await server.finished;
    },
  };
}

/**
 * Runs `fn` against a served fake release of `version` (see {@link writeFakeRelease} for
 * `tamper`), then stops the server and removes the folder.
 */
export async function withFakeRelease(
  version: string,
  fn: (server: ReleaseServer) => Promise<void>,
  opts: { tamper?: string } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "datumctl-release-" });
  await writeFakeRelease(dir, version, opts);
  const server = serveReleaseFolder(dir);
  try {
    await fn(server);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}
