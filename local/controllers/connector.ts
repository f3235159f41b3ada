/**
 * The Connector controller: `Accepted` (or `ConnectorClassNotFound`), a Lease named after the
 * connector with `status.leaseRef`, `Ready` only while the Lease is renewed, and
 * `IrohDNSPublished` with first-claim ownership of a public key across every project. Also the
 * two one-shot faults that act on connectors (`delete-lease`, `iroh-owner-flip`).
 */

import type { StoreEvent } from "../store.ts";
import type { KubeObject } from "../store.ts";
import {
  conditionsOf,
  type ControllerContext,
  NET,
  refKey,
  setCondition,
  specOf,
  statusOf,
} from "./common.ts";

/** The message Datum's operator gives a connector whose Lease is not renewed. */
export const LEASE_EXPIRED_MESSAGE = "Connector lease has expired. Agent may be offline.";

type Json = Record<string, unknown>;

/** Identity of a Connector across all project control planes. */
interface ConnectorRef {
  plane: string;
  namespace: string;
  name: string;
  uid: string;
}

/** Target of a one-shot connector fault. */
interface Target {
  project: string;
  name: string;
  namespace?: string;
  recreateAfterMs?: number;
}

function publicKeyOf(obj: KubeObject): string | undefined {
  const details = (obj.status as Json | undefined)?.connectionDetails as Json | undefined;
  const id = (details?.publicKey as Json | undefined)?.id;
  return typeof id === "string" && id ? id : undefined;
}

/** Reconciles Connectors and their Leases. */
export class ConnectorController {
  #owners = new Map<string, ConnectorRef>();
  #fingerprints = new Map<string, string>();
  #leaseHolds = new Map<string, ReturnType<typeof setTimeout> | -1>();

  constructor(
    private ctx: ControllerContext,
    /** Called when a connector appears or goes, so its advertisements are checked again. */
    private onConnectorChange: (plane: string, namespace: string | undefined, name: string) => void,
  ) {}

  get #connectors() {
    return this.ctx.type(NET, "connectors");
  }
  get #classes() {
    return this.ctx.type(NET, "connectorclasses");
  }
  get #leases() {
    return this.ctx.type("coordination.k8s.io", "leases");
  }

  /** Schedules a reconcile of one connector. */
  schedule(plane: string, namespace: string | undefined, name: string, delay: number): void {
    this.ctx.schedule(
      "connector",
      plane,
      namespace,
      name,
      delay,
      () => this.#reconcile(plane, namespace!, name),
    );
  }

  /** Reconciles every existing connector (on start). */
  resyncAll(): void {
    for (const plane of this.ctx.cluster.planesWith(this.#connectors)) {
      for (const c of this.ctx.cluster.list(plane, this.#connectors)) {
        this.schedule(plane, c.metadata.namespace, c.metadata.name, 0);
      }
    }
  }

  /** Reacts to a Connector, Lease or ConnectorClass event of a project plane. */
  onEvent(e: StoreEvent): void {
    const { group, plural } = e.resource;
    const obj = e.object;
    const ns = obj.metadata.namespace;
    const name = obj.metadata.name;
    if (group === NET && plural === "connectors") {
      if (e.type === "DELETED") {
        void this.#gone(e.plane, obj).catch((err) =>
          console.error("local stack: connector controller failed:", err)
        );
        return;
      }
      const key = refKey({ plane: e.plane, namespace: ns, name });
      const fingerprint = JSON.stringify([
        obj.metadata.generation,
        (obj.status as Json | undefined)?.connectionDetails,
        obj.metadata.deletionTimestamp,
      ]);
      if (this.#fingerprints.get(key) === fingerprint) return;
      const first = !this.#fingerprints.has(key);
      this.#fingerprints.set(key, fingerprint);
      const early = this.ctx.earlyDelay;
      this.schedule(e.plane, ns, name, first ? early : Math.min(early, 50));
      if (first) this.onConnectorChange(e.plane, ns, name);
    } else if (group === "coordination.k8s.io" && plural === "leases") {
      if (this.ctx.cluster.get(e.plane, this.#connectors, ns, name)) {
        this.schedule(e.plane, ns, name, 0);
      }
    } else if (group === NET && plural === "connectorclasses") {
      for (const c of this.ctx.cluster.list(e.plane, this.#connectors)) {
        this.schedule(e.plane, c.metadata.namespace, c.metadata.name, 0);
      }
    }
  }

  /** Drops the pending lease recreations. */
  stop(): void {
    for (const t of this.#leaseHolds.values()) if (t !== -1) clearTimeout(t);
    this.#leaseHolds.clear();
  }

  async #reconcile(plane: string, namespace: string, name: string) {
    const { cluster, settings } = this.ctx;
    const connector = cluster.get(plane, this.#connectors, namespace, name);
    if (!connector || connector.metadata.deletionTimestamp) return;
    const generation = connector.metadata.generation;
    const me: ConnectorRef = { plane, namespace, name, uid: connector.metadata.uid };
    const className = specOf(connector).connectorClassName;
    const klass = typeof className === "string"
      ? cluster.get(plane, this.#classes, undefined, className)
      : undefined;

    let lease = cluster.get(plane, this.#leases, namespace, name);
    const held = this.#leaseHolds.has(refKey(me));
    if (klass && !lease && !held) {
      lease = await cluster.upsert(plane, this.#leases, {
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
        spec: { holderIdentity: name, leaseDurationSeconds: settings.leaseDurationSeconds },
      });
    }

    // Ready only while now < renewTime + leaseDurationSeconds.
    const leaseSpec = (lease?.spec ?? {}) as Json;
    const renewed = Date.parse(String(leaseSpec.renewTime ?? ""));
    const duration = Number(leaseSpec.leaseDurationSeconds ?? settings.leaseDurationSeconds);
    const expiresAt = renewed + duration * 1000;
    const ready = lease !== undefined && !Number.isNaN(renewed) && Date.now() < expiresAt;
    if (ready) this.schedule(plane, namespace, name, expiresAt - Date.now() + 5);

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

    await cluster.writeStatus(plane, this.#connectors, namespace, name, (obj) => {
      const st = statusOf(obj);
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
    const c = this.ctx.cluster.get(ref.plane, this.#connectors, ref.namespace, ref.name);
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

  /** Every Connector (any project) whose status names this key id, oldest first. */
  #claimants(keyId: string): { plane: string; connector: KubeObject }[] {
    const out: { plane: string; connector: KubeObject }[] = [];
    for (const plane of this.ctx.cluster.planesWith(this.#connectors)) {
      for (const c of this.ctx.cluster.list(plane, this.#connectors)) {
        if (publicKeyOf(c) === keyId) out.push({ plane, connector: c });
      }
    }
    return out.sort((a, b) =>
      String(a.connector.metadata.creationTimestamp).localeCompare(
        String(b.connector.metadata.creationTimestamp),
      )
    );
  }

  #reconcileClaimants(keyId: string) {
    for (const { plane, connector } of this.#claimants(keyId)) {
      this.schedule(plane, connector.metadata.namespace, connector.metadata.name, 0);
    }
  }

  async #gone(plane: string, connector: KubeObject) {
    const ref = {
      plane,
      namespace: connector.metadata.namespace ?? "default",
      name: connector.metadata.name,
    };
    this.#fingerprints.delete(refKey(ref));
    this.ctx.cancel("connector", plane, ref.namespace, ref.name);
    const lease = this.ctx.cluster.get(plane, this.#leases, ref.namespace, ref.name);
    const owned = (lease?.metadata.ownerReferences as Json[] | undefined)?.some((o) =>
      o.uid === connector.metadata.uid
    );
    for (const [keyId, owner] of [...this.#owners]) {
      if (owner.uid === connector.metadata.uid) {
        this.#owners.delete(keyId);
        this.#reconcileClaimants(keyId);
      }
    }
    this.onConnectorChange(plane, ref.namespace, ref.name);
    if (lease && owned) await this.ctx.cluster.remove(plane, this.#leases, ref.namespace, ref.name);
  }

  /** One-shot fault: delete a connector's Lease; it is recreated after `recreateAfterMs`. */
  async deleteLease(value: unknown): Promise<void> {
    const v = parseTarget(value, "delete-lease");
    const plane = `project/${v.project}`;
    const namespace = v.namespace ?? "default";
    if (!this.ctx.cluster.get(plane, this.#leases, namespace, v.name)) {
      throw new RangeError(`no Lease ${v.name} in project ${v.project}`);
    }
    const recreateAfter = typeof v.recreateAfterMs === "number"
      ? v.recreateAfterMs
      : this.ctx.settings.delayMs * 3;
    const key = refKey({ plane, namespace, name: v.name });
    const old = this.#leaseHolds.get(key);
    if (old !== undefined && old !== -1) clearTimeout(old);
    this.#leaseHolds.set(key, -1);
    await this.ctx.cluster.remove(plane, this.#leases, namespace, v.name);
    if (recreateAfter >= 0) {
      this.#leaseHolds.set(
        key,
        setTimeout(() => {
          this.#leaseHolds.delete(key);
          this.schedule(plane, namespace, v.name, 0);
        }, recreateAfter),
      );
    }
  }

  /** One-shot fault: make this Connector the owner of its public key id. */
  flipIrohOwner(value: unknown): void {
    const v = parseTarget(value, "iroh-owner-flip");
    const plane = `project/${v.project}`;
    const namespace = v.namespace ?? "default";
    const c = this.ctx.cluster.get(plane, this.#connectors, namespace, v.name);
    if (!c) throw new RangeError(`no Connector ${v.name} in project ${v.project}`);
    const keyId = publicKeyOf(c);
    if (!keyId) {
      throw new RangeError(`Connector ${v.name} has no status.connectionDetails.publicKey.id`);
    }
    this.#owners.set(keyId, { plane, namespace, name: v.name, uid: c.metadata.uid });
    this.#reconcileClaimants(keyId);
  }
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
