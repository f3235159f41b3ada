/**
 * The tunnel operations on a project control plane: find or ensure this
 * agent's Connector (only by its public key: a foreign Connector is never adopted), and create,
 * list, get, update, enable/disable and delete tunnels (HTTPProxy + same-named
 * ConnectorAdvertisement, optional TrafficProtectionPolicy), keeping `state.yml` in step.
 *
 * Every create goes through the quota-check-timeout retry; `update` sends no PATCH when nothing
 * differs; `delete` works without a Connector and removes the Connector only when no live HTTPProxy
 * references it.
 */
import { ApiClient } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { checkResourceName } from "../api/urls.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { normalizeEndpoint, parseTarget, type Target } from "./endpoint.ts";
import { NO_HOME_RELAY, sameConnectionDetails } from "./details.ts";
import { conditionState } from "./progress.ts";
import { withQuotaCheckRetry } from "./quota.ts";
import {
  advertisementManifest,
  type ConnectionDetails,
  type Connector,
  type ConnectorAdvertisement,
  connectorManifest,
  DEFAULT_CONNECTOR_CLASS,
  desiredProxyRules,
  type HTTPProxy,
  httpProxyManifest,
  LABEL_ANNOTATION,
  type ObjectList,
  proxyBackend,
  proxyHostnames,
  proxyLabel,
  trafficPolicyManifest,
  TUNNEL_KINDS,
} from "./resources.ts";
import {
  readTunnelState,
  removeTunnelEntry,
  setTunnelEntryEnabled,
  upsertTunnelEntry,
} from "./state.ts";

/** What `tunnel list` and `get` report about one tunnel. */
export interface TunnelSummary {
  id: string;
  label: string;
  /** The normalized backend endpoint, e.g. `http://localhost:8080`. */
  endpoint: string;
  hostnames: string[];
  /** The same-named ConnectorAdvertisement exists. */
  enabled: boolean;
  accepted: boolean;
  programmed: boolean;
  /** `ready` (accepted and programmed), `accepted`, or `pending`. */
  state: "ready" | "accepted" | "pending";
  /** The Connector the backend points at. */
  connector?: string;
}

/** The summary of an HTTPProxy, given whether its advertisement exists. */
export function summarizeProxy(proxy: HTTPProxy, enabled: boolean): TunnelSummary {
  const generation = proxy.metadata.generation;
  const accepted = conditionState(proxy.status?.conditions, "Accepted", generation) === "ready";
  const programmed = conditionState(proxy.status?.conditions, "Programmed", generation) === "ready";
  const backend = proxyBackend(proxy);
  return {
    id: proxy.metadata.name,
    label: proxyLabel(proxy),
    endpoint: backend ? normalizeEndpoint(backend.endpoint) : "",
    hostnames: proxyHostnames(proxy),
    enabled,
    accepted,
    programmed,
    state: accepted && programmed ? "ready" : accepted ? "accepted" : "pending",
    connector: backend?.connector?.name,
  };
}

/** A default label: 12 hex characters (6 random bytes), made only when creating a tunnel. */
export function randomLabel(): string {
  return [...crypto.getRandomValues(new Uint8Array(6))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** The host this agent runs on, as the Connector's device annotations carry it. */
export function deviceInfo(): { name: string; os: string } {
  let name = "unknown";
  try {
    name = Deno.hostname().replace(/\.local$/, "");
  } catch { /* no permission: keep the placeholder */ }
  const os = Deno.build.os === "darwin" ? "macos" : Deno.build.os;
  return { name, os };
}

/** Options of {@link TunnelService}. */
export interface TunnelServiceOptions {
  /** A client whose base is the project's control plane. */
  client: ApiClient;
  projectId: string;
  /** This agent's endpoint id (64 hex). */
  endpointId: string;
  /** The datum-connect data folder (for `state.yml`). */
  repo: string;
  /** The details to publish on a Connector this service creates or finds (undefined: none yet). */
  connectionDetails?: () => ConnectionDetails | undefined;
  /** Progress notices meant for stderr (the quota-retry line). */
  onNotice?: (text: string) => void;
  /** Cuts quota-retry waits short. */
  signal?: AbortSignal;
  /** Overrides the Connector's device annotations (tests). */
  device?: { name: string; os: string };
  /** Also create a TrafficProtectionPolicy per tunnel (DATUM_CONNECT_CREATE_TRAFFIC_PROTECTION_POLICIES). */
  trafficProtection?: boolean;
  /** Force a ConnectorClass instead of discovering it (DATUMCTL_CONNECTOR_CLASS). */
  connectorClass?: string;
}

/** The result of {@link TunnelService.update}. */
export interface UpdateResult {
  summary: TunnelSummary;
  /** Whether the HTTPProxy was patched (false: it already matched). */
  proxyPatched: boolean;
  /** Whether the ConnectorAdvertisement was patched. */
  advertisementPatched: boolean;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.httpStatus === 404;
}

/** Deep equality of JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) =>
      sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    );
  }
  return false;
}

/** Tunnel operations for one project and one agent identity. */
export class TunnelService {
  readonly projectId: string;
  readonly endpointId: string;
  readonly repo: string;
  readonly #client: ApiClient;
  /** Creates go without the client's own quick retries so the quota retry and its notice apply. */
  readonly #createClient: ApiClient;
  readonly #options: TunnelServiceOptions;
  #connectorClass?: string;

  constructor(options: TunnelServiceOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#createClient = new ApiClient({
      auth: options.client.auth,
      baseUrl: options.client.baseUrl,
      retry: { attempts: 1 },
    });
    this.projectId = options.projectId;
    this.endpointId = options.endpointId;
    this.repo = options.repo;
  }

  /** The underlying client (project control plane). */
  get client(): ApiClient {
    return this.#client;
  }

  /** A collection's path, or one object's when `name` is given (even empty: it is refused). */
  #path(kind: keyof typeof TUNNEL_KINDS, name?: string, sub?: string): string {
    let path = TUNNEL_KINDS[kind].path;
    if (name !== undefined) {
      path += `/${
        encodeURIComponent(kind === "Connector" ? checkConnectorName(name) : checkTunnelId(name))
      }`;
    }
    if (sub) path += `/${sub}`;
    return path;
  }

  async #create<T>(kind: keyof typeof TUNNEL_KINDS, body: unknown): Promise<T> {
    return await withQuotaCheckRetry(
      `create ${kind}`,
      () => this.#createClient.create<T>(this.#path(kind), body, { signal: this.#options.signal }),
      { onNotice: this.#options.onNotice, signal: this.#options.signal },
    );
  }

  async #getOrUndefined<T>(kind: keyof typeof TUNNEL_KINDS, name: string): Promise<T | undefined> {
    try {
      return await this.#client.get<T>(this.#path(kind, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #deleteIfPresent(kind: keyof typeof TUNNEL_KINDS, name: string): Promise<boolean> {
    try {
      await this.#client.delete(this.#path(kind, name));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * This agent's Connector: the first one whose published public key is ours (and not being
   * deleted). Read-only; never falls back to another Connector.
   */
  async findConnector(): Promise<Connector | undefined> {
    const list = await this.#client.list<Connector>(this.#path("Connector"), {
      fieldSelector: `status.connectionDetails.publicKey.id=${this.endpointId}`,
    });
    // Checked again here so a server that ignored the selector can never hand us a foreign one.
    return list.items.find((c) =>
      !c.metadata.deletionTimestamp &&
      c.status?.connectionDetails?.publicKey?.id === this.endpointId
    );
  }

  /** The ConnectorClass for new Connectors: the default-marked one, else datum-connect, else the first. */
  async #chooseConnectorClass(): Promise<string> {
    if (this.#options.connectorClass) return this.#options.connectorClass;
    if (this.#connectorClass) return this.#connectorClass;
    let chosen = DEFAULT_CONNECTOR_CLASS;
    try {
      const list = await this.#client.list<
        { metadata: { name: string; annotations?: Record<string, string> } }
      >(
        "/apis/networking.datumapis.com/v1alpha1/connectorclasses",
      );
      const names = list.items.map((c) => c.metadata.name);
      const marked = list.items.find((c) =>
        Object.entries(c.metadata.annotations ?? {}).some(([k, v]) =>
          k.endsWith("is-default-class") && v === "true"
        )
      );
      chosen = marked?.metadata.name ??
        (names.includes(DEFAULT_CONNECTOR_CLASS)
          ? DEFAULT_CONNECTOR_CLASS
          : names.includes("iroh-quic-tunnel")
          ? "iroh-quic-tunnel"
          : names[0] ?? DEFAULT_CONNECTOR_CLASS);
    } catch { /* not listable: keep datum-connect */ }
    this.#connectorClass = chosen;
    return chosen;
  }

  /** Patches the Connector's connection details; returns the updated Connector. */
  async patchConnectionDetails(name: string, details: ConnectionDetails): Promise<Connector> {
    return await this.#client.patchMerge<Connector>(this.#path("Connector", name, "status"), {
      status: { connectionDetails: details },
    });
  }

  /** The published details for a Connector this agent owns (at least the public key). */
  #details(): ConnectionDetails {
    return this.#options.connectionDetails?.() ?? {
      type: "PublicKey",
      publicKey: {
        id: this.endpointId,
        discoveryMode: "DNS",
        homeRelay: NO_HOME_RELAY,
        addresses: [],
      },
    };
  }

  /**
   * Finds this agent's Connector, or creates it and publishes our public key in its status.
   * A found Connector gets its details and device annotations re-patched when they differ.
   */
  async ensureConnector(): Promise<Connector> {
    const device = this.#options.device ?? deviceInfo();
    const found = await this.findConnector();
    if (found) {
      let connector = found;
      const annotations = found.metadata.annotations ?? {};
      if (
        annotations["datum.net/device-name"] !== device.name ||
        annotations["datum.net/device-os"] !== device.os
      ) {
        connector = await this.#client.patchMerge<Connector>(
          this.#path("Connector", found.metadata.name),
          {
            metadata: {
              annotations: {
                "datum.net/device-name": device.name,
                "datum.net/device-os": device.os,
              },
            },
          },
        );
      }
      const details = this.#options.connectionDetails?.();
      if (details && !sameConnectionDetails(details, found.status?.connectionDetails)) {
        connector = await this.patchConnectionDetails(found.metadata.name, details);
      }
      return connector;
    }
    const created = await this.#create<Connector>(
      "Connector",
      connectorManifest(device, await this.#chooseConnectorClass()),
    );
    return await this.patchConnectionDetails(created.metadata.name, this.#details());
  }

  /** Tunnels backed by this agent's Connector (read-only on the server; none without one). */
  async list(): Promise<TunnelSummary[]> {
    const connector = await this.findConnector();
    if (!connector) return [];
    const name = connector.metadata.name;
    const [proxies, ads] = await Promise.all([
      this.#client.list<HTTPProxy>(this.#path("HTTPProxy")),
      this.#client.list<ConnectorAdvertisement>(this.#path("ConnectorAdvertisement"), {
        fieldSelector: `spec.connectorRef.name=${name}`,
      }),
    ]);
    const advertised = new Set(ads.items.map((a) => a.metadata.name));
    return proxies.items
      .filter((p) => proxyBackend(p)?.connector?.name === name)
      .map((p) => summarizeProxy(p, advertised.has(p.metadata.name)));
  }

  /** One tunnel by id, whichever Connector it points at (works after a Connector rename). */
  async get(id: string): Promise<TunnelSummary | undefined> {
    checkTunnelId(id);
    const proxy = await this.getProxy(id);
    if (!proxy) return undefined;
    const ad = await this.#getOrUndefined<ConnectorAdvertisement>("ConnectorAdvertisement", id);
    return summarizeProxy(proxy, ad !== undefined);
  }

  /** The raw HTTPProxy of tunnel `id`, or undefined. */
  async getProxy(id: string): Promise<HTTPProxy | undefined> {
    return await this.#getOrUndefined<HTTPProxy>("HTTPProxy", id);
  }

  /** A Connector by name, or undefined. */
  async getConnector(name: string): Promise<Connector | undefined> {
    return await this.#getOrUndefined<Connector>("Connector", name);
  }

  /** This agent's tunnel whose normalized endpoint equals `endpoint`'s. */
  async findByEndpoint(endpoint: string): Promise<TunnelSummary | undefined> {
    const wanted = normalizeEndpoint(endpoint);
    return (await this.list()).find((t) => t.endpoint === wanted);
  }

  /** A tunnel with an error when it does not exist. */
  async require(id: string): Promise<TunnelSummary> {
    const summary = await this.get(id);
    if (!summary) throw tunnelNotFound(id, this.projectId);
    return summary;
  }

  /**
   * Creates a tunnel: ensure the Connector, the HTTPProxy, its advertisement (enabled), the
   * optional policy, and the local entry. Nothing is rolled back on failure.
   */
  async create(label: string, endpoint: string): Promise<TunnelSummary> {
    const normalized = normalizeEndpoint(endpoint);
    const target = parseTarget(normalized);
    const connector = await this.ensureConnector();
    const connectorName = connector.metadata.name;
    const proxy = await this.#create<HTTPProxy>(
      "HTTPProxy",
      httpProxyManifest(label, normalized, connectorName),
    );
    const id = proxy.metadata.name;
    await this.#create("ConnectorAdvertisement", advertisementManifest(id, connectorName, target));
    if (this.#options.trafficProtection) {
      await this.#create("TrafficProtectionPolicy", trafficPolicyManifest(id));
    }
    await upsertTunnelEntry(this.repo, { id, label, target, enabled: true });
    return summarizeProxy(proxy, true);
  }

  /**
   * Points tunnel `id` at this agent's Connector with the given label and endpoint (each
   * defaulting to the stored one). Sends no PATCH when the label and rules already match: an
   * identical patch can make the edge re-reconcile and serve 5xx for minutes. Only an endpoint
   * given here becomes this machine's record of the target (`state.yml`); without one the
   * local entry keeps its target, since the server's may have been changed by anyone.
   */
  async update(
    id: string,
    changes: { label?: string; endpoint?: string } = {},
  ): Promise<UpdateResult> {
    checkTunnelId(id);
    const connector = await this.ensureConnector();
    const connectorName = connector.metadata.name;
    const proxy = await this.getProxy(id);
    if (!proxy) throw tunnelNotFound(id, this.projectId);
    const currentLabel = proxy.metadata.annotations?.[LABEL_ANNOTATION];
    const currentEndpoint = proxyBackend(proxy)?.endpoint;
    const label = changes.label ?? currentLabel ?? proxy.metadata.name;
    const endpointRaw = changes.endpoint ?? currentEndpoint;
    if (!endpointRaw) {
      throw new CliError("TUNNEL_NO_ENDPOINT", `tunnel ${id} has no backend endpoint`, {
        hint: `Give one with 'datumctl tunnel update --id ${id} --endpoint HOST:PORT'.`,
        exitCode: ExitCode.dataError,
      });
    }
    const endpoint = normalizeEndpoint(endpointRaw);
    const target = parseTarget(endpoint);
    const rules = desiredProxyRules(endpoint, connectorName);

    let updated = proxy;
    let proxyPatched = false;
    if (currentLabel !== label || !sameJson(proxy.spec?.rules, rules)) {
      updated = await this.#client.patchMerge<HTTPProxy>(this.#path("HTTPProxy", id), {
        metadata: { annotations: { [LABEL_ANNOTATION]: label } },
        spec: { hostnames: proxy.spec?.hostnames ?? [], rules },
      });
      proxyPatched = true;
    }

    const ad = await this.#getOrUndefined<ConnectorAdvertisement>("ConnectorAdvertisement", id);
    let advertisementPatched = false;
    if (ad) {
      const desired = advertisementManifest(id, connectorName, target).spec;
      if (!sameJson(ad.spec, desired)) {
        await this.#client.patchMerge(this.#path("ConnectorAdvertisement", id), { spec: desired });
        advertisementPatched = true;
      }
    }
    const local = (await readTunnelState(this.repo)).find((e) => e.id === id);
    if (changes.endpoint !== undefined || local) {
      await upsertTunnelEntry(this.repo, {
        id,
        label,
        target: changes.endpoint !== undefined ? target : local!.target,
        enabled: ad !== undefined,
      });
    }
    return {
      summary: summarizeProxy(updated, ad !== undefined),
      proxyPatched,
      advertisementPatched,
    };
  }

  /**
   * Enables (advertisement patched or created on our Connector, for `target`: the one this
   * machine decided on, also recorded in `state.yml`) or disables (advertisement deleted)
   * tunnel `id`. The HTTPProxy and its hostname survive a disable.
   */
  async setEnabled(id: string, enabled: false): Promise<void>;
  async setEnabled(id: string, enabled: true, target: Target): Promise<void>;
  async setEnabled(id: string, enabled: boolean, target?: Target): Promise<void> {
    checkTunnelId(id);
    if (!enabled) {
      await this.#deleteIfPresent("ConnectorAdvertisement", id);
      await setTunnelEntryEnabled(this.repo, id, false);
      return;
    }
    const connector = await this.ensureConnector();
    const connectorName = connector.metadata.name;
    const proxy = await this.getProxy(id);
    if (!proxy) throw tunnelNotFound(id, this.projectId);
    const desired = advertisementManifest(id, connectorName, target!);
    const ad = await this.#getOrUndefined<ConnectorAdvertisement>("ConnectorAdvertisement", id);
    if (!ad) {
      await this.#create("ConnectorAdvertisement", desired);
    } else if (!sameJson(ad.spec, desired.spec)) {
      await this.#client.patchMerge(this.#path("ConnectorAdvertisement", id), {
        spec: desired.spec,
      });
    }
    await upsertTunnelEntry(this.repo, {
      id,
      label: proxyLabel(proxy),
      target: target!,
      enabled: true,
    });
  }

  /**
   * Deletes tunnel `id` (HTTPProxy, advertisement, policy, each if present) and its local entry;
   * then, when no live HTTPProxy references this agent's Connector any more, the Connector and
   * its advertisements. A missing Connector does not stop the delete. Returns whether the
   * HTTPProxy existed.
   */
  async delete(id: string, onCleanupError?: (text: string) => void): Promise<boolean> {
    checkTunnelId(id);
    let connector: Connector | undefined;
    try {
      connector = await this.findConnector();
    } catch (err) {
      onCleanupError?.(`could not look up the connector: ${(err as Error).message}`);
    }
    const existed = await this.#deleteIfPresent("HTTPProxy", id);
    await this.#deleteIfPresent("ConnectorAdvertisement", id);
    await this.#deleteIfPresent("TrafficProtectionPolicy", id);
    await removeTunnelEntry(this.repo, id);
    if (connector) await this.#removeConnectorIfUnused(connector.metadata.name, onCleanupError);
    return existed;
  }

  async #removeConnectorIfUnused(name: string, onError?: (text: string) => void): Promise<void> {
    const proxies = await this.#client.list<HTTPProxy>(this.#path("HTTPProxy"));
    const inUse = proxies.items.some((p) =>
      !p.metadata.deletionTimestamp && proxyBackend(p)?.connector?.name === name
    );
    if (inUse) return;
    try {
      const ads = await this.#client.list<ConnectorAdvertisement>(
        this.#path("ConnectorAdvertisement"),
        { fieldSelector: `spec.connectorRef.name=${name}` },
      );
      for (const ad of ads.items) {
        try {
          await this.#deleteIfPresent("ConnectorAdvertisement", ad.metadata.name);
        } catch (err) {
          onError?.(
            `could not delete ConnectorAdvertisement/${ad.metadata.name}: ${
              (err as Error).message
            }`,
          );
        }
      }
    } catch (err) {
      onError?.(
        `could not list the advertisements of Connector/${name}: ${(err as Error).message}`,
      );
    }
    await this.#deleteIfPresent("Connector", name);
  }

  /** Lists every HTTPProxy of the project (for the picker's candidates and diagnostics). */
  async listAllProxies(): Promise<ObjectList<HTTPProxy>> {
    return await this.#client.list<HTTPProxy>(this.#path("HTTPProxy"));
  }
}

/**
 * Returns `id` when it can name a tunnel (the Kubernetes name rules of lib/api/urls.ts: not
 * `.` or `..`, no `/` or `%`, …), else a usage error (exit 2), whether the id came from the
 * command line or from the server.
 */
export function checkTunnelId(id: string): string {
  return checkResourceName(
    id,
    "tunnel id",
    "Run 'datumctl tunnel list' to see this machine's tunnels.",
  );
}

function checkConnectorName(name: string): string {
  return checkResourceName(
    name,
    "Connector name",
    "The server sent a Connector name that cannot be one; report it.",
  );
}

/** The error for a tunnel id that does not exist in the project. */
export function tunnelNotFound(id: string, projectId: string): CliError {
  return new CliError("TUNNEL_NOT_FOUND", `tunnel ${id} not found in project ${projectId}`, {
    hint: "Run 'datumctl tunnel list' to see this machine's tunnels.",
    exitCode: ExitCode.rejected,
  });
}

export type { Target };
