/**
 * The real Kubernetes API servers under the stack: one etcd (Debian's `etcd`) and, per control
 * plane, one `apiextensions-apiserver` (k8s.io/apiextensions-apiserver, built once per machine
 * with `go install`) with its own `--etcd-prefix`, started on first use, authenticating and
 * authorizing through the stack's webhooks, with the plane's CRDs installed before it is used.
 */

import { cacheDir } from "../../lib/store/paths.ts";
import type { ResourceType } from "../resources.ts";
import type { StackCertificates } from "../tls.ts";
import { KubeClient } from "./client.ts";
import { crdFor, crdName } from "./crds.ts";
import { objectPath } from "./cluster.ts";

/** The Go module (and version) of the API server. */
export const APISERVER_MODULE = "k8s.io/apiextensions-apiserver@v0.34.1";

/** Where the built API server lives: `<user cache>/datumctl/apiserver/<version>/`. */
export function apiServerBinary(env: (name: string) => string | undefined = Deno.env.get): string {
  const version = APISERVER_MODULE.split("@")[1];
  return `${cacheDir(env)}/apiserver/${version}/apiextensions-apiserver`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The API server binary: `$DATUM_LOCAL_APISERVER`, else the per-machine build; or undefined. */
export async function findApiServer(): Promise<string | undefined> {
  const override = Deno.env.get("DATUM_LOCAL_APISERVER");
  if (override) return await isFile(override) ? override : undefined;
  const built = apiServerBinary();
  return await isFile(built) ? built : undefined;
}

/** Builds the API server into {@link apiServerBinary}'s folder with `go install`. */
export async function buildApiServer(
  output: "inherit" | "null" = "inherit",
): Promise<string> {
  const binary = apiServerBinary();
  const status = await new Deno.Command("go", {
    args: ["install", APISERVER_MODULE],
    env: { GOBIN: binary.slice(0, binary.lastIndexOf("/")), GOFLAGS: "-trimpath" },
    stdout: output,
    stderr: output,
  }).spawn().status.catch((e) => {
    throw new Error(`go is needed to build the API server (${(e as Error).message})`);
  });
  if (!status.success) throw new Error(`go install ${APISERVER_MODULE} failed`);
  return binary;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up within ${ms / 1000} s`);
}

/** A child process with the tail of its output kept for error messages. */
class Child {
  #tail = "";
  #done: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;

  constructor(binary: string, args: string[]) {
    this.#child = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        this.#tail = (this.#tail + decoder.decode(chunk, { stream: true })).slice(-3000);
      }
    };
    this.#done = Promise.all([
      this.#child.status,
      drain(this.#child.stdout),
      drain(this.#child.stderr),
    ]).then(([s]) => s);
  }

  get tail(): string {
    return this.#tail;
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }, 5000);
    await this.#done;
    clearTimeout(timer);
  }
}

/** A running etcd. */
export interface Etcd {
  url: string;
  stop(): Promise<void>;
}

/** Starts etcd on loopback with its data in `dir`. */
export async function startEtcd(dir: string): Promise<Etcd> {
  const [client, peer] = [freePort(), freePort()];
  const url = `http://127.0.0.1:${client}`;
  const child = new Child("etcd", [
    "--name",
    "datum-local",
    "--data-dir",
    `${dir}/etcd`,
    "--listen-client-urls",
    url,
    "--advertise-client-urls",
    url,
    "--listen-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-advertise-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-cluster",
    `datum-local=http://127.0.0.1:${peer}`,
    "--log-level",
    "error",
    // The planes share one etcd, whose revision runs ahead of each plane's watch cache: a watch
    // without resourceVersion waits for its cache to reach it (or answers 504
    // ResourceVersionTooLarge, as Datum's server sometimes does). Progress notifications let
    // the caches catch up within a second.
    "--experimental-watch-progress-notify-interval=1s",
    "--unsafe-no-fsync",
  ]);
  try {
    await waitFor("etcd", 20_000, async () => (await fetch(`${url}/health`)).ok);
  } catch (e) {
    await child.stop();
    throw new Error(`${(e as Error).message}: ${child.tail}`);
  }
  return { url, stop: () => child.stop() };
}

/** One plane's API server. */
export interface PlaneServer {
  key: string;
  url: string;
  client: KubeClient;
}

/** Options for {@link PlaneServers}. */
export interface PlaneServersOptions {
  binary: string;
  etcd: string;
  /** Folder for kubeconfigs (removed by the caller). */
  dir: string;
  certs: StackCertificates;
  /** The webhook server's base URL (`/planes/<key>` is appended). */
  webhook: string;
  /** The controllers' token (allowed everything by the webhook). */
  token: string;
  http: Deno.HttpClient;
}

/** Starts plane API servers on demand and installs their CRDs. */
export class PlaneServers {
  #running = new Map<string, Promise<PlaneServer>>();
  #children: Child[] = [];

  constructor(private opts: PlaneServersOptions) {}

  /** The plane's server, starting it (with `types` as CRDs) when it is not running yet. */
  get(key: string, types: ResourceType[]): Promise<PlaneServer> {
    let running = this.#running.get(key);
    if (!running) {
      running = this.#start(key, types);
      this.#running.set(key, running);
      running.catch(() => this.#running.delete(key));
    }
    return running;
  }

  /** Keys of the planes started so far. */
  keys(): string[] {
    return [...this.#running.keys()];
  }

  async #start(key: string, types: ResourceType[]): Promise<PlaneServer> {
    const { opts } = this;
    const kubeconfig = `${opts.dir}/kubeconfig-${key.replace("/", "-")}.yaml`;
    await Deno.writeTextFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "stack", cluster: { server: `${opts.webhook}/planes/${key}` } }],
        users: [{ name: "stack", user: { token: opts.token } }],
        contexts: [{ name: "stack", context: { cluster: "stack", user: "stack" } }],
        "current-context": "stack",
      }),
    );
    const port = freePort();
    const child = new Child(opts.binary, [
      `--etcd-servers=${opts.etcd}`,
      `--etcd-prefix=/datum/${key}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--tls-cert-file=${opts.certs.certPath}`,
      `--tls-private-key-file=${opts.certs.keyPath}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--kubeconfig=${kubeconfig}`,
      "--authentication-skip-lookup",
      // Every request is decided afresh: logouts and membership checks take effect at once.
      "--authentication-token-webhook-cache-ttl=0s",
      "--authorization-webhook-cache-authorized-ttl=0s",
      "--authorization-webhook-cache-unauthorized-ttl=0s",
      "--enable-priority-and-fairness=false",
      "--disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,MutatingAdmissionPolicy",
      "-v=0",
    ]);
    this.#children.push(child);
    const url = `https://127.0.0.1:${port}`;
    const client = new KubeClient(url, opts.token, opts.http);
    try {
      await waitFor(`the API server of ${key}`, 60_000, async () => {
        const r = await client.fetch("/apis/apiextensions.k8s.io/v1");
        await r.body?.cancel();
        return r.ok;
      });
      await Promise.all(types.map((t) => this.installKind(client, t)));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${child.tail}`);
    }
    return { key, url, client };
  }

  /** Installs one kind's CRD on a running server and waits until it is served. */
  async installKind(client: KubeClient, type: ResourceType): Promise<void> {
    const res = await client.fetch("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(crdFor(type)),
    });
    const text = await res.text();
    if (!res.ok && res.status !== 409) {
      throw new Error(`CRD ${crdName(type)} was refused: ${text}`);
    }
    await waitFor(`CRD ${crdName(type)}`, 30_000, async () => {
      const r = await client.fetch(objectPath(type) + "?limit=1");
      await r.body?.cancel();
      return r.ok;
    });
  }

  /** Stops every plane's server. */
  async stop(): Promise<void> {
    await Promise.all(this.#children.map((c) => c.stop()));
  }
}
