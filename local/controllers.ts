/**
 * Controllers that move conditions the way Datum's operators do (datum-api.md §4, §5):
 * Connector (Accepted, a Lease and `status.leaseRef`, Ready while the Lease is renewed,
 * IrohDNSPublished with first-claim ownership of a public key), HTTPProxy (a generated
 * hostname, Accepted, CertificatesReady, Programmed, ConnectorMetadataProgrammed with
 * observedGeneration, after small delays), ConnectorAdvertisement (Accepted) and
 * TrafficProtectionPolicy (ancestor conditions), and Projects created in an organization
 * (Ready). Also the two one-shot faults that act on them.
 *
 * Exports {@link Controllers} and {@link ControllerSettings}.
 */

import type { ResourceRegistry, ResourceType } from "./resources.ts";
import { kubeNow, type KubeObject, type ObjectStore, type StoreEvent } from "./store.ts";

/** Knobs of the controllers (changeable while running). */
export interface ControllerSettings {
  /** `spec.leaseDurationSeconds` of created Leases. */
  leaseDurationSeconds: number;
  /** Base reconcile delay in ms; Accepted lands after ~40% of it, Programmed after all of it. */
  delayMs: number;
  /** Domain of generated HTTPProxy hostnames. */
  proxyDomain: string;
  /**
   * The local gateway's URL, published in each HTTPProxy's `status.addresses` (type
   * `datumctl.localhost/gateway-url`) so `tunnel listen` finds it without DATUMCTL_TUNNEL_GATEWAY.
   */
  gatewayUrl?: string;
}

/** A condition as stored in `status.conditions`. */
interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The message Datum's operator gives a connector whose Lease is not renewed. */
export const LEASE_EXPIRED_MESSAGE = "Connector lease has expired. Agent may be offline.";

const NET = "networking.datumapis.com";
const ADJECTIVES = [
  "ground",
  "amber",
  "quiet",
  "brisk",
  "lucky",
  "misty",
  "bold",
  "calm",
  "swift",
  "sunny",
  "hidden",
  "silver",
  "rapid",
  "gentle",
  "polar",
  "cosmic",
  "velvet",
  "crisp",
  "noble",
  "rustic",
];
const NOUNS = [
  "pearl",
  "river",
  "falcon",
  "meadow",
  "harbor",
  "cedar",
  "comet",
  "lantern",
  "pebble",
  "summit",
  "willow",
  "canyon",
  "ember",
  "glacier",
  "orchid",
  "beacon",
  "thicket",
  "quartz",
  "tundra",
  "reef",
];

/** Sets a condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: Condition[], next: Condition): Condition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = existing && existing.status === next.status
    ? existing.lastTransitionTime
    : kubeNow();
  const merged = { ...next, lastTransitionTime };
  return existing
    ? conditions.map((c) => c.type === next.type ? merged : c)
    : [...conditions, merged];
}

function conditionsOf(obj: KubeObject): Condition[] {
  return [...(((obj.status ?? {}) as { conditions?: Condition[] }).conditions ?? [])];
}

type Json = Record<string, unknown>;
const spec = (obj: KubeObject) => (obj.spec ?? {}) as Json;
const status = (obj: KubeObject) => (obj.status ??= {}) as Json;

function publicKeyOf(obj: KubeObject): string | undefined {
  const details = (obj.status as Json | undefined)?.connectionDetails as Json | undefined;
  const id = (details?.publicKey as Json | undefined)?.id;
  return typeof id === "string" && id ? id : undefined;
}

/** Identity of a Connector across all project control planes. */
interface ConnectorRef {
  plane: string;
  namespace: string;
  name: string;
  uid: string;
}

const refKey = (r: { plane: string; namespace?: string; name: string }) =>
  `${r.plane}|${r.namespace ?? ""}|${r.name}`;

/** The reconcilers, driven by store events. */
export class Controllers {
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #owners = new Map<string, ConnectorRef>();
  #proxyGenerations = new Map<string, number>();
  #fingerprints = new Map<string, string>();
  #leaseHolds = new Map<string, ReturnType<typeof setTimeout> | -1>();
  #unsubscribe?: () => void;

  constructor(
    private store: ObjectStore,
    private registry: ResourceRegistry,
    readonly settings: ControllerSettings,
  ) {}

  #type(group: string, plural: string): ResourceType {
    const t = this.registry.byPlural(group, plural);
    if (!t) throw new Error(`kind ${plural}.${group} is not registered`);
    return t;
  }
  get #connectors() {
    return this.#type(NET, "connectors");
  }
  get #classes() {
    return this.#type(NET, "connectorclasses");
  }
  get #advertisements() {
    return this.#type(NET, "connectoradvertisements");
  }
  get #proxies() {
    return this.#type(NET, "httpproxies");
  }
  get #policies() {
    return this.#type(NET, "trafficprotectionpolicies");
  }
  get #leases() {
    return this.#type("coordination.k8s.io", "leases");
  }

  /** Starts reacting to changes (existing objects are reconciled too). */
  start(): void {
    this.#unsubscribe = this.store.subscribe((e) => this.#onEvent(e));
    for (const plane of this.store.planesWith(this.#connectors)) {
      for (const c of this.store.list(plane, this.#connectors)) {
        this.#schedule("connector", plane, c.metadata.namespace, c.metadata.name, 0);
      }
    }
  }

  /** Stops every timer and the event subscription. */
  stop(): void {
    this.#unsubscribe?.();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const t of this.#leaseHolds.values()) if (t !== -1) clearTimeout(t);
    this.#leaseHolds.clear();
  }

  #schedule(
    what: string,
    plane: string,
    namespace: string | undefined,
    name: string,
    delay: number,
    fn?: () => void,
  ) {
    const key = `${what}|${refKey({ plane, namespace, name })}`;
    const old = this.#timers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        try {
          if (fn) fn();
          else if (what === "connector") this.#reconcileConnector(plane, namespace!, name);
          else if (what === "advertisement") this.#reconcileAdvertisement(plane, namespace!, name);
          else if (what === "policy") this.#reconcilePolicy(plane, namespace!, name);
        } catch (e) {
          console.error(`local stack: ${what} controller failed:`, e);
        }
      }, Math.max(0, delay)),
    );
  }

  #onEvent(e: StoreEvent) {
    if (e.plane.startsWith("org/") && e.resource.plural === "projects" && e.type === "ADDED") {
      this.#schedule(
        "project",
        e.plane,
        undefined,
        e.object.metadata.name,
        this.settings.delayMs,
        () => this.#projectReady(e.plane, e.object.metadata.name),
      );
      return;
    }
    if (!e.plane.startsWith("project/")) return;
    const { group, plural } = e.resource;
    const obj = e.object;
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name;
    const key = refKey({ plane: e.plane, namespace: ns, name });
    const early = Math.round(this.settings.delayMs * 0.4);
    if (group === NET && plural === "connectors") {
      if (e.type === "DELETED") {
        this.#connectorGone(e.plane, obj);
        return;
      }
      const fingerprint = JSON.stringify([
        obj.metadata.generation,
        (obj.status as Json | undefined)?.connectionDetails,
        obj.metadata.deletionTimestamp,
      ]);
      if (this.#fingerprints.get(key) === fingerprint) return;
      const first = !this.#fingerprints.has(key);
      this.#fingerprints.set(key, fingerprint);
      this.#schedule("connector", e.plane, ns, name, first ? early : Math.min(early, 50));
      if (first) this.#advertisementsFor(e.plane, ns, name);
    } else if (group === "coordination.k8s.io" && plural === "leases") {
      if (this.store.get(e.plane, this.#connectors, ns, name)) {
        this.#schedule("connector", e.plane, ns, name, 0);
      }
    } else if (group === NET && plural === "httpproxies") {
      if (e.type === "DELETED") {
        this.#proxyGenerations.delete(key);
        return;
      }
      if (this.#proxyGenerations.get(key) === obj.metadata.generation) return;
      this.#proxyGenerations.set(key, obj.metadata.generation);
      this.#reconcileProxy(e.plane, ns!, name, obj.metadata.generation);
    } else if (group === NET && plural === "connectoradvertisements") {
      if (this.#changedGeneration(key, obj, e)) {
        this.#schedule("advertisement", e.plane, ns, name, early);
      }
    } else if (group === NET && plural === "trafficprotectionpolicies") {
      if (this.#changedGeneration(key, obj, e)) {
        this.#schedule("policy", e.plane, ns, name, this.settings.delayMs);
      }
    } else if (group === NET && plural === "connectorclasses") {
      for (const c of this.store.list(e.plane, this.#connectors)) {
        this.#schedule("connector", e.plane, c.metadata.namespace, c.metadata.name, 0);
      }
    }
  }

  #changedGeneration(key: string, obj: KubeObject, e: StoreEvent): boolean {
    const k = `${e.resource.plural}|${key}`;
    if (e.type === "DELETED") {
      this.#fingerprints.delete(k);
      return false;
    }
    const g = String(obj.metadata.generation);
    if (this.#fingerprints.get(k) === g) return false;
    this.#fingerprints.set(k, g);
    return true;
  }

  #advertisementsFor(plane: string, namespace: string | undefined, connector: string) {
    for (const ad of this.store.list(plane, this.#advertisements, namespace)) {
      const ref = (spec(ad).connectorRef as Json | undefined)?.name;
      if (ref === connector) {
        this.#schedule("advertisement", plane, ad.metadata.namespace, ad.metadata.name, 0);
      }
    }
  }

  // ---- Connector ----------------------------------------------------------------------

  #reconcileConnector(plane: string, namespace: string, name: string) {
    const connector = this.store.get(plane, this.#connectors, namespace, name);
    if (!connector || connector.metadata.deletionTimestamp) return;
    const generation = connector.metadata.generation;
    const me: ConnectorRef = { plane, namespace, name, uid: connector.metadata.uid };
    const className = spec(connector).connectorClassName;
    const klass = typeof className === "string"
      ? this.store.get(plane, this.#classes, undefined, className)
      : undefined;

    let lease = this.store.get(plane, this.#leases, namespace, name);
    const held = this.#leaseHolds.has(refKey(me));
    if (klass && !lease && !held) {
      lease = this.store.upsert(plane, this.#leases, {
        metadata: {
          name,
          namespace,
          ownerReferences: [{
            apiVersion: connector.apiVersion,
            kind: "Connector",
            name,
            uid: connector.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          }],
        },
        spec: { holderIdentity: name, leaseDurationSeconds: this.settings.leaseDurationSeconds },
      });
    }

    // Ready only while now < renewTime + leaseDurationSeconds.
    const leaseSpec = (lease?.spec ?? {}) as Json;
    const renewed = Date.parse(String(leaseSpec.renewTime ?? ""));
    const duration = Number(leaseSpec.leaseDurationSeconds ?? this.settings.leaseDurationSeconds);
    const expiresAt = renewed + duration * 1000;
    const ready = lease !== undefined && !Number.isNaN(renewed) && Date.now() < expiresAt;
    if (ready) {
      this.#schedule("connector", plane, namespace, name, expiresAt - Date.now() + 5);
    }

    const keyId = publicKeyOf(connector);
    this.#releaseOtherKeys(me, keyId);
    let owner: ConnectorRef | undefined;
    if (keyId) {
      owner = this.#owners.get(keyId);
      if (!owner || !this.#stillClaims(owner, keyId)) {
        owner = me;
        this.#owners.set(keyId, me);
      }
    }

    this.store.writeStatus(plane, this.#connectors, namespace, name, (obj) => {
      const st = status(obj);
      let conditions = conditionsOf(obj);
      conditions = setCondition(
        conditions,
        klass
          ? {
            type: "Accepted",
            status: "True",
            reason: "Accepted",
            message: "The connector has been accepted",
            observedGeneration: generation,
          }
          : {
            type: "Accepted",
            status: "False",
            reason: "ConnectorClassNotFound",
            message: `ConnectorClass "${String(className ?? "")}" not found`,
            observedGeneration: generation,
          },
      );
      conditions = setCondition(
        conditions,
        ready
          ? {
            type: "Ready",
            status: "True",
            reason: "ConnectorReady",
            message: "Connector is ready",
            observedGeneration: generation,
          }
          : {
            type: "Ready",
            status: "False",
            reason: "ConnectorNotReady",
            message: LEASE_EXPIRED_MESSAGE,
            observedGeneration: generation,
          },
      );
      if (!keyId) {
        conditions = setCondition(conditions, {
          type: "IrohDNSPublished",
          status: "False",
          reason: "Pending",
          message: "Waiting for connection details",
          observedGeneration: generation,
        });
      } else if (owner && refKey(owner) === refKey(me)) {
        conditions = setCondition(conditions, {
          type: "IrohDNSPublished",
          status: "True",
          reason: "Owner",
          message: "iroh DNS record is published",
          observedGeneration: generation,
        });
      } else if (owner) {
        conditions = setCondition(conditions, {
          type: "IrohDNSPublished",
          status: "False",
          reason: "DeferredToOwner",
          message: `iroh DNS record is owned by Connector ${
            owner.plane.slice("project/".length)
          }/${owner.namespace}/${owner.name} (uid ${owner.uid})`,
          observedGeneration: generation,
        });
      }
      st.conditions = conditions;
      if (lease) st.leaseRef = { name: lease.metadata.name };
    });
  }

  #stillClaims(ref: ConnectorRef, keyId: string): boolean {
    const c = this.store.get(ref.plane, this.#connectors, ref.namespace, ref.name);
    return !!c && c.metadata.uid === ref.uid && !c.metadata.deletionTimestamp &&
      publicKeyOf(c) === keyId;
  }

  #releaseOtherKeys(me: ConnectorRef, keep: string | undefined) {
    for (const [keyId, owner] of [...this.#owners]) {
      if (keyId !== keep && refKey(owner) === refKey(me)) {
        this.#owners.delete(keyId);
        this.#reconcileClaimants(keyId);
      }
    }
  }

  /** Every Connector (any project) whose status names this key id. */
  #claimants(keyId: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const plane of this.store.planesWith(this.#connectors)) {
      for (const c of this.store.list(plane, this.#connectors)) {
        if (publicKeyOf(c) === keyId) out.push({ ...c, __plane: plane } as KubeObject);
      }
    }
    return out.sort((a, b) =>
      String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp))
    );
  }

  #reconcileClaimants(keyId: string) {
    for (const c of this.#claimants(keyId)) {
      const plane = String((c as Json).__plane);
      this.#schedule("connector", plane, c.metadata.namespace, c.metadata.name, 0);
    }
  }

  #connectorGone(plane: string, connector: KubeObject) {
    const ref = {
      plane,
      namespace: connector.metadata.namespace ?? "default",
      name: connector.metadata.name,
    };
    this.#fingerprints.delete(refKey(ref));
    const timer = this.#timers.get(`connector|${refKey(ref)}`);
    if (timer !== undefined) clearTimeout(timer);
    const lease = this.store.get(plane, this.#leases, ref.namespace, ref.name);
    const owned = (lease?.metadata.ownerReferences as Json[] | undefined)?.some((o) =>
      o.uid === connector.metadata.uid
    );
    if (lease && owned) {
      try {
        this.store.delete(plane, this.#leases, ref.namespace, ref.name);
      } catch {
        // already gone
      }
    }
    for (const [keyId, owner] of [...this.#owners]) {
      if (owner.uid === connector.metadata.uid) {
        this.#owners.delete(keyId);
        this.#reconcileClaimants(keyId);
      }
    }
    this.#advertisementsFor(plane, ref.namespace, ref.name);
  }

  /** One-shot fault: delete a connector's Lease; it is recreated after `recreateAfterMs`. */
  deleteLease(value: unknown): void {
    const v = parseTarget(value, "delete-lease");
    const plane = `project/${v.project}`;
    const namespace = v.namespace ?? "default";
    if (!this.store.get(plane, this.#leases, namespace, v.name)) {
      throw new RangeError(`no Lease ${v.name} in project ${v.project}`);
    }
    const recreateAfter = typeof v.recreateAfterMs === "number"
      ? v.recreateAfterMs
      : this.settings.delayMs * 3;
    const key = refKey({ plane, namespace, name: v.name });
    const old = this.#leaseHolds.get(key);
    if (old !== undefined) clearTimeout(old);
    this.#leaseHolds.set(key, -1);
    this.store.delete(plane, this.#leases, namespace, v.name);
    if (recreateAfter >= 0) {
      this.#leaseHolds.set(
        key,
        setTimeout(() => {
          this.#leaseHolds.delete(key);
          this.#schedule("connector", plane, namespace, v.name, 0);
        }, recreateAfter),
      );
    }
  }

  /** One-shot fault: make this Connector the owner of its public key id. */
  flipIrohOwner(value: unknown): void {
    const v = parseTarget(value, "iroh-owner-flip");
    const plane = `project/${v.project}`;
    const namespace = v.namespace ?? "default";
    const c = this.store.get(plane, this.#connectors, namespace, v.name);
    if (!c) throw new RangeError(`no Connector ${v.name} in project ${v.project}`);
    const keyId = publicKeyOf(c);
    if (!keyId) {
      throw new RangeError(`Connector ${v.name} has no status.connectionDetails.publicKey.id`);
    }
    this.#owners.set(keyId, { plane, namespace, name: v.name, uid: c.metadata.uid });
    this.#reconcileClaimants(keyId);
  }

  // ---- HTTPProxy ----------------------------------------------------------------------

  #hostnameInUse(host: string): boolean {
    for (const plane of this.store.planesWith(this.#proxies)) {
      for (const p of this.store.list(plane, this.#proxies)) {
        if (((p.status as Json | undefined)?.hostnames as string[] | undefined)?.includes(host)) {
          return true;
        }
      }
    }
    return false;
  }

  #newHostname(): string {
    for (let i = 0; i < 1000; i++) {
      const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)];
      const suffix = i < 50 ? "" : `-${i}`;
      const host = `${pick(ADJECTIVES)}-${pick(NOUNS)}${suffix}.${this.settings.proxyDomain}`;
      if (!this.#hostnameInUse(host)) return host;
    }
    return `${crypto.randomUUID().slice(0, 8)}.${this.settings.proxyDomain}`;
  }

  #reconcileProxy(plane: string, namespace: string, name: string, generation: number) {
    const stage1 = Math.round(this.settings.delayMs * 0.4);
    this.#schedule("proxy-accept", plane, namespace, name, stage1, () => {
      this.store.writeStatus(plane, this.#proxies, namespace, name, (obj) => {
        if (obj.metadata.generation !== generation) return;
        const st = status(obj);
        const generated = ((st.hostnames as string[] | undefined) ?? []).find((h) =>
          h.endsWith(`.${this.settings.proxyDomain}`)
        ) ?? this.#newHostname();
        const custom = ((spec(obj).hostnames as string[] | undefined) ?? []).filter((h) =>
          h !== generated
        );
        st.hostnames = [generated, ...custom];
        if (this.settings.gatewayUrl) {
          st.addresses = [{
            type: "datumctl.localhost/gateway-url",
            value: this.settings.gatewayUrl,
          }];
        }
        let conditions = conditionsOf(obj);
        conditions = setCondition(conditions, {
          type: "Accepted",
          status: "True",
          reason: "Accepted",
          message: "The HTTPProxy has been accepted",
          observedGeneration: generation,
        });
        const pendingIfNotTrue = (type: string, reason: string, message: string) => {
          const c = conditions.find((x) =>
            x.type === type
          );
          if (c?.status === "True") return;
          conditions = setCondition(conditions, {
            type,
            status: "False",
            reason,
            message,
            observedGeneration: generation,
          });
        };
        pendingIfNotTrue("Programmed", "Pending", "Waiting for the gateway to be programmed");
        pendingIfNotTrue(
          "CertificatesReady",
          "CertificatesPending",
          "Certificates are being issued",
        );
        pendingIfNotTrue(
          "ConnectorMetadataProgrammed",
          "Pending",
          "Waiting for connector metadata to be applied",
        );
        st.conditions = conditions;
      });
    });
    this.#schedule("proxy-program", plane, namespace, name, this.settings.delayMs, () => {
      this.store.writeStatus(plane, this.#proxies, namespace, name, (obj) => {
        if (obj.metadata.generation !== generation) return;
        const st = status(obj);
        let conditions = conditionsOf(obj);
        for (
          const c of [
            {
              type: "Programmed",
              reason: "Programmed",
              message: "The HTTPProxy has been programmed",
            },
            {
              type: "CertificatesReady",
              reason: "AllCertificatesReady",
              message: "All certificates are ready",
            },
            {
              type: "ConnectorMetadataProgrammed",
              reason: "ConnectorMetadataApplied",
              message: "Connector metadata has been applied",
            },
          ]
        ) {
          conditions = setCondition(conditions, {
            ...c,
            status: "True",
            observedGeneration: generation,
          });
        }
        st.conditions = conditions;
      });
    });
  }

  // ---- Project ------------------------------------------------------------------------

  #projectReady(plane: string, name: string) {
    const projects = this.#type("resourcemanager.miloapis.com", "projects");
    this.store.writeStatus(plane, projects, undefined, name, (obj) => {
      status(obj).conditions = setCondition(conditionsOf(obj), {
        type: "Ready",
        status: "True",
        reason: "Ready",
        message: "Project is ready",
        observedGeneration: obj.metadata.generation,
      });
    });
  }

  // ---- ConnectorAdvertisement and TrafficProtectionPolicy -----------------------------

  #reconcileAdvertisement(plane: string, namespace: string, name: string) {
    const ad = this.store.get(plane, this.#advertisements, namespace, name);
    if (!ad) return;
    const connectorName = (spec(ad).connectorRef as Json | undefined)?.name;
    const connector = typeof connectorName === "string"
      ? this.store.get(plane, this.#connectors, namespace, connectorName)
      : undefined;
    this.store.writeStatus(plane, this.#advertisements, namespace, name, (obj) => {
      status(obj).conditions = setCondition(
        conditionsOf(obj),
        connector
          ? {
            type: "Accepted",
            status: "True",
            reason: "Accepted",
            message: "The connector advertisement has been accepted",
            observedGeneration: obj.metadata.generation,
          }
          : {
            type: "Accepted",
            status: "False",
            reason: "ConnectorNotFound",
            message: `Connector "${String(connectorName ?? "")}" not found`,
            observedGeneration: obj.metadata.generation,
          },
      );
    });
  }

  #reconcilePolicy(plane: string, namespace: string, name: string) {
    this.store.writeStatus(plane, this.#policies, namespace, name, (obj) => {
      const targets = (spec(obj).targetRefs as Json[] | undefined) ?? [];
      const generation = obj.metadata.generation;
      status(obj).ancestors = targets.map((t) => ({
        ancestorRef: { group: t.group, kind: t.kind, name: t.name, namespace },
        controllerName: "networking.datumapis.com/traffic-protection-controller",
        conditions: [
          {
            type: "Accepted",
            status: "True",
            reason: "Accepted",
            message: "Policy has been accepted",
            observedGeneration: generation,
            lastTransitionTime: kubeNow(),
          },
          {
            type: "Programmed",
            status: "True",
            reason: "Programmed",
            message: "Policy has been programmed",
            observedGeneration: generation,
            lastTransitionTime: kubeNow(),
          },
        ],
      }));
    });
  }
}

interface Target {
  project: string;
  name: string;
  namespace?: string;
  recreateAfterMs?: number;
}

function parseTarget(value: unknown, fault: string): Target {
  if (typeof value === "string" && value.includes("/")) {
    const [project, name] = value.split("/", 2);
    return { project, name };
  }
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    const name = v.name ?? v.connector;
    if (typeof v.project === "string" && typeof name === "string") {
      return {
        project: v.project,
        name,
        namespace: typeof v.namespace === "string" ? v.namespace : undefined,
        recreateAfterMs: typeof v.recreateAfterMs === "number" ? v.recreateAfterMs : undefined,
      };
    }
  }
  throw new TypeError(
    `${fault} expects {"project": "...", "name": "<connector>"} or "project/name"`,
  );
}
