/**
 * The whole local Datum stack in one call: OpenID provider, control-plane emulator, seed data,
 * controllers and fault switches, with admin methods for tests and the demo.
 *
 * `local/main.ts` wraps it as `deno task local`; `scripts/demo.ts` starts it in-process.
 */

import { startEmulator } from "./emulator/router.ts";
import { findApiServer } from "./kube/apiserver.ts";
import { type KubeBackend, startKubeBackend } from "./kube/backend.ts";
import { makeCertificates, type StackCertificates } from "./tls.ts";
import { type LocalGateway, startLocalGateway } from "./gateway.ts";
import { type Cluster, storeCluster } from "./cluster.ts";
import { Controllers, type ControllerSettings } from "./controllers.ts";
import { FAULT_NAMES, faultCount, type FaultName, Faults } from "./faults.ts";
import { OpenApiDocs } from "./openapi.ts";
import { type DevicePoll, startIdentityProvider } from "./provider.ts";
import { ResourceRegistry, type ResourceType } from "./resources.ts";
import { ObjectStore } from "./store.ts";
import { ONBOARDING_REASONS, Tenancy } from "./tenancy.ts";
import { registerValidators } from "./validation.ts";

/** Options for {@link startLocalStack}. */
export interface LocalStackOptions {
  /** Port of the OpenID provider (0 or absent = a free port). */
  port?: number;
  /** Port of the control-plane emulator (0 or absent = a free port). */
  apiPort?: number;
  /** Email that logins complete as without interaction. */
  autoApprove?: string;
  /** Lifetime of access and ID tokens (default 3600). */
  accessTokenTtlSeconds?: number;
  /** `interval` in device authorization responses (default 1). */
  devicePollIntervalSeconds?: number;
  /** Lifetime of device codes, `expires_in` (default 600). */
  deviceCodeTtlSeconds?: number;
  /** `leaseDurationSeconds` of the Leases the controller creates (default 30). */
  leaseDurationSeconds?: number;
  /** Base of the controllers' simulated reconcile delays in ms (default 300). */
  controllerDelayMs?: number;
  /** Domain of generated HTTPProxy hostnames (default `datumproxy.localhost`). */
  proxyDomain?: string;
  /** Start the tunnel gateway (local/gateway.ts; default true when the engine is built). */
  gateway?: boolean;
  /** The gateway keeps a resolved agent address this long, like the edge's iroh DNS (default 0). */
  dnsTtlSeconds?: number;
  /** What serves the control planes: the in-process emulator (default) or real API servers. */
  apiBackend?: ApiBackend;
  /** Serve the API over HTTPS with the stack's own CA (its path is `ca` in the ready line). */
  tls?: boolean;
}

/** The control-plane backends: the emulator, or etcd with real Kubernetes API servers. */
export type ApiBackend = "emulator" | "kube";

/** The ready line's fields. */
export interface LocalStackInfo {
  issuer: string;
  api: string;
  gateway: string | null;
  /** The gateway's stable iroh endpoint id (for `tunnel listen --allow-peer`), else null. */
  gatewayEndpointId: string | null;
  clientId: string;
  /** Which backend serves the control planes. */
  apiBackend: ApiBackend;
  /** Path of the CA certificate that signed the API's certificate (with `tls`), else null. */
  ca: string | null;
}

/** What `POST /_local/settings` changes: the controller settings and the device-code lifetime. */
export interface StackSettings extends ControllerSettings {
  deviceCodeTtlSeconds: number;
  /** The gateway's emulated iroh DNS TTL (0 = addresses follow Connectors at once). */
  dnsTtlSeconds: number;
}

/** A running stack with its admin methods. */
export interface RunningLocalStack extends LocalStackInfo {
  /** The stack's store: every control plane with the emulator; the directory and the core
   * group (namespaces, …) with the real backend. */
  store: ObjectStore;
  /** The control planes as controllers and the gateway see them, whichever the backend. */
  cluster: Cluster;
  /** The kinds served; register more with {@link registerKind}. */
  registry: ResourceRegistry;
  controllers: Controllers;
  faults: Faults;
  /** Makes logins complete as this user without interaction (undefined = off). */
  setAutoApprove(email: string | undefined): Promise<void>;
  /** Turns a fault switch on/off or fires a one-shot fault (see local/README.md). */
  setFault(name: string, value: unknown): Promise<void>;
  /** Changes settings for what happens next (controllers, device-code lifetime). */
  setSettings(patch: Partial<StackSettings>): Promise<StackSettings>;
  /** The most recent device_code polls of the token endpoint and their answers. */
  devicePolls(): DevicePoll[];
  /** Sets an organization's `OnboardingComplete` reason (`Ready` = complete; null = none). */
  setOrganizationOnboarding(org: string, reason: string | null): Promise<void>;
  /** The seed service account's key file (JSON object). */
  serviceAccountKeyFile(): Promise<Record<string, string>>;
  /** Adds a kind to the emulator. */
  registerKind(type: ResourceType): void;
  /** The JSON ready line. */
  info(): LocalStackInfo;
  stop(): Promise<void>;
}

/** Starts the provider, the emulator and the controllers; resolves when all answer. */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<RunningLocalStack> {
  const faults = new Faults();
  const store = new ObjectStore();
  registerValidators(store);
  const registry = new ResourceRegistry();
  const tenancy = new Tenancy(store, registry);
  const settings: ControllerSettings = {
    leaseDurationSeconds: opts.leaseDurationSeconds ?? 30,
    delayMs: opts.controllerDelayMs ?? 300,
    proxyDomain: opts.proxyDomain ?? "datumproxy.localhost",
  };
  tenancy.seed();
  const apiBackend = opts.apiBackend ?? "emulator";
  const binary = apiBackend === "kube" ? await findApiServer() : undefined;
  if (apiBackend === "kube" && !binary) {
    throw new Error(
      "the kube backend needs the API server built once: run 'deno task apiserver' (needs Go)",
    );
  }
  const certs: StackCertificates | undefined = apiBackend === "kube" || opts.tls
    ? await makeCertificates()
    : undefined;

  const provider = await startIdentityProvider({
    port: opts.port ?? 0,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 3600,
    devicePollIntervalSeconds: opts.devicePollIntervalSeconds ?? 1,
    deviceCodeTtlSeconds: opts.deviceCodeTtlSeconds ?? 600,
    autoApprove: opts.autoApprove,
    faults,
  });

  let apiUrl = "";
  // deno-lint-ignore prefer-const
  let controllers: Controllers;
  const setFault = async (name: string, value: unknown) => {
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`unknown fault "${name}"; known: ${FAULT_NAMES.join(", ")}`);
    }
    switch (name as FaultName) {
      case "api-503":
        faults.api503 = faultCount(value);
        break;
      case "token-503":
        faults.token503 = faultCount(value);
        break;
      case "quota-timeout":
        faults.quotaTimeout = faultCount(value);
        break;
      case "revoked-refresh-tokens":
        faults.revokedRefreshTokens = !!value;
        break;
      case "delete-lease":
        await controllers.deleteLease(value);
        break;
      case "iroh-owner-flip":
        controllers.flipIrohOwner(value);
        break;
      case "device-denied":
        faults.deviceDenied = faultCount(value);
        break;
      case "device-slow-down":
        faults.deviceSlowDown = faultCount(value);
        break;
      case "watch-rv-too-large":
        faults.watchTooLarge = faultCount(value);
        break;
    }
  };

  let dnsTtlSeconds = opts.dnsTtlSeconds ?? 0;
  const currentSettings = (): StackSettings => ({
    ...settings,
    deviceCodeTtlSeconds: provider.deviceCodeTtlSeconds,
    dnsTtlSeconds,
  });
  const applySettings = (body: unknown): StackSettings => {
    const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    if (b.deviceCodeTtlSeconds !== undefined) {
      provider.setDeviceCodeTtl(Number(b.deviceCodeTtlSeconds));
    }
    if (b.dnsTtlSeconds !== undefined) {
      const ttl = Number(b.dnsTtlSeconds);
      if (!(ttl >= 0)) throw new RangeError("dnsTtlSeconds must be a non-negative number");
      gateway?.setDnsTtl(ttl);
      dnsTtlSeconds = ttl;
    }
    Object.assign(settings, pickSettings(body));
    return currentSettings();
  };

  const admin = async (req: Request, url: URL): Promise<Response> => {
    const reply = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json" },
      });
    const path = url.pathname.replace(/\/+$/, "");
    const body = req.method === "POST" || req.method === "PUT"
      ? await req.text().then((t) => t.trim() ? JSON.parse(t) : undefined)
      : undefined;
    try {
      if (req.method === "GET" && path === "/_local") {
        return reply({
          ...stack.info(),
          autoApprove: provider.autoApprove ?? null,
          faults: faults.snapshot(),
          settings: currentSettings(),
        });
      }
      if (req.method === "GET" && path === "/_local/faults") return reply(faults.snapshot());
      let m = path.match(/^\/_local\/faults\/([^/]+)$/);
      if (m && req.method === "POST") {
        await setFault(
          m[1],
          body && typeof body === "object" && "value" in body ? body.value : body,
        );
        return reply(faults.snapshot());
      }
      if (path === "/_local/auto-approve" && req.method === "POST") {
        const email = typeof body === "string" ? body : body?.email;
        provider.setAutoApprove(email || undefined);
        return reply({ autoApprove: provider.autoApprove ?? null });
      }
      m = path.match(/^\/_local\/organizations\/([^/]+)\/onboarding$/);
      if (m && req.method === "POST") {
        const reason = typeof body === "string" ? body : body?.reason;
        if (reason !== null && !(ONBOARDING_REASONS as readonly string[]).includes(reason)) {
          return reply({
            error: `reason must be one of ${ONBOARDING_REASONS.join(", ")} (or null: none)`,
          }, 400);
        }
        return reply(tenancy.setOnboarding(m[1], reason));
      }
      if (path === "/_local/service-account-key" && req.method === "GET") {
        return reply(await provider.serviceAccountKeyFile(apiUrl));
      }
      if (path === "/_local/kinds" && req.method === "POST") {
        const type = kindFromJson(body);
        registry.register(type);
        await kube?.kindAdded(type);
        return reply(type, 201);
      }
      if (path === "/_local/settings" && req.method === "POST") {
        return reply(applySettings(body));
      }
      if (path === "/_local/device-polls" && req.method === "GET") {
        return reply(provider.devicePolls());
      }
      return reply({ error: "unknown admin route" }, 404);
    } catch (e) {
      return reply({ error: (e as Error).message }, 400);
    }
  };

  const emulatorOptions = {
    port: opts.apiPort ?? 0,
    store,
    registry,
    tenancy,
    faults,
    openapi: new OpenApiDocs(),
    verifyToken: (token: string) => provider.verifyAccessToken(token),
    admin,
    tls: opts.tls && certs ? { cert: certs.certPem, key: certs.keyPem } : undefined,
  };
  let kube: KubeBackend | undefined;
  let emulator: { url: string; close(): Promise<void> };
  try {
    if (apiBackend === "kube") {
      kube = await startKubeBackend({ ...emulatorOptions, binary: binary!, certs: certs! });
      emulator = kube;
    } else {
      emulator = await startEmulator(emulatorOptions);
    }
  } catch (e) {
    await provider.close();
    if (certs) await Deno.remove(certs.dir, { recursive: true }).catch(() => {});
    throw e;
  }
  apiUrl = emulator.url;
  const cluster: Cluster = kube ? kube.cluster : storeCluster(store);
  controllers = new Controllers(cluster, registry, settings);
  controllers.start();

  // The tunnel edge: serves HTTPProxy hostnames through the engine; absent without an engine.
  let gateway: LocalGateway | undefined;
  if (opts.gateway !== false) {
    try {
      gateway = await startLocalGateway(cluster, registry, {
        onError: (m) => console.error(m),
        dnsTtlSeconds,
      });
    } catch (e) {
      console.error(`local stack: no tunnel gateway (${(e as Error).message})`);
    }
  }
  settings.gatewayUrl = gateway?.url;

  let stopped: Promise<void> | undefined;
  const stack: RunningLocalStack = {
    issuer: provider.issuer,
    api: emulator.url,
    gateway: gateway?.url ?? null,
    gatewayEndpointId: gateway?.endpointId ?? null,
    clientId: provider.clientId,
    apiBackend,
    ca: opts.tls && certs ? certs.caPath : null,
    store,
    cluster,
    registry,
    controllers,
    faults,
    setAutoApprove: (email) => Promise.resolve().then(() => provider.setAutoApprove(email)),
    setFault: (name, value) => setFault(name, value),
    setSettings: (patch) => Promise.resolve().then(() => applySettings(patch)),
    devicePolls: () => provider.devicePolls(),
    setOrganizationOnboarding: (org, reason) =>
      Promise.resolve().then(() => {
        if (reason !== null && !(ONBOARDING_REASONS as readonly string[]).includes(reason)) {
          throw new RangeError(`reason must be one of ${ONBOARDING_REASONS.join(", ")}`);
        }
        tenancy.setOnboarding(org, reason);
      }),
    serviceAccountKeyFile: () => provider.serviceAccountKeyFile(emulator.url),
    registerKind: (type) => registry.register(type),
    info: () => ({
      issuer: provider.issuer,
      api: emulator.url,
      gateway: gateway?.url ?? null,
      gatewayEndpointId: gateway?.endpointId ?? null,
      clientId: provider.clientId,
      apiBackend,
      ca: opts.tls && certs ? certs.caPath : null,
    }),
    stop() {
      stopped ??= (async () => {
        controllers.stop();
        await Promise.all([emulator.close(), provider.close(), gateway?.close()]);
        if (certs) await Deno.remove(certs.dir, { recursive: true }).catch(() => {});
      })();
      return stopped;
    },
  };
  return stack;
}

/** Reads a kind registration (`POST /_local/kinds`), filling Kubernetes-like defaults. */
function kindFromJson(body: unknown): ResourceType {
  const b = (body ?? {}) as Record<string, unknown>;
  const text = (key: string) => {
    const v = b[key];
    if (typeof v !== "string" || !v) throw new TypeError(`kind registration needs "${key}"`);
    return v;
  };
  const kind = text("kind");
  const list = (key: string) => Array.isArray(b[key]) ? b[key] as never[] : [];
  return {
    group: typeof b.group === "string" ? b.group : "",
    version: text("version"),
    kind,
    plural: typeof b.plural === "string" ? b.plural : `${kind.toLowerCase()}s`,
    singular: typeof b.singular === "string" ? b.singular : kind.toLowerCase(),
    namespaced: b.namespaced !== false,
    shortNames: list("shortNames").length ? list("shortNames") : undefined,
    categories: list("categories").length ? list("categories") : undefined,
    statusSubresource: b.statusSubresource === true,
    printerColumns: list("printerColumns"),
    selectableFields: list("selectableFields"),
    planes: list("planes").length ? list("planes") : ["project"],
  };
}

function pickSettings(body: unknown): Partial<ControllerSettings> {
  const out: Partial<ControllerSettings> = {};
  if (!body || typeof body !== "object") return out;
  const b = body as Record<string, unknown>;
  if (typeof b.leaseDurationSeconds === "number") out.leaseDurationSeconds = b.leaseDurationSeconds;
  if (typeof b.delayMs === "number") out.delayMs = b.delayMs;
  if (typeof b.proxyDomain === "string") out.proxyDomain = b.proxyDomain;
  return out;
}
