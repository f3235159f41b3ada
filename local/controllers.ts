/**
 * The controllers that move conditions the way Datum's operators do, one module per kind under
 * `local/controllers/` (Connector, HTTPProxy, ConnectorAdvertisement, TrafficProtectionPolicy,
 * Project), driven by the change events of either backend through a {@link Cluster}; also the
 * two one-shot faults that act on connectors.
 */

import type { Cluster } from "./cluster.ts";
import { AdvertisementController } from "./controllers/advertisement.ts";
import {
  ControllerContext,
  type ControllerSettings,
  NET,
  Scheduler,
} from "./controllers/common.ts";
import { ConnectorController } from "./controllers/connector.ts";
import { HttpProxyController } from "./controllers/httpproxy.ts";
import { PolicyController } from "./controllers/policy.ts";
import { ProjectController } from "./controllers/project.ts";
import type { ResourceRegistry } from "./resources.ts";
import type { StoreEvent } from "./store.ts";

export type { ControllerSettings } from "./controllers/common.ts";

/** The reconcilers, driven by change events. */
export class Controllers {
  #scheduler = new Scheduler();
  #ctx: ControllerContext;
  #connectors: ConnectorController;
  #proxies: HttpProxyController;
  #advertisements: AdvertisementController;
  #policies: PolicyController;
  #projects: ProjectController;
  #unsubscribe?: () => void;

  constructor(
    private cluster: Cluster,
    registry: ResourceRegistry,
    readonly settings: ControllerSettings,
  ) {
    this.#ctx = new ControllerContext(cluster, registry, settings, this.#scheduler);
    this.#advertisements = new AdvertisementController(this.#ctx);
    this.#connectors = new ConnectorController(
      this.#ctx,
      (plane, namespace, name) => this.#advertisements.forConnector(plane, namespace, name),
    );
    this.#proxies = new HttpProxyController(this.#ctx);
    this.#policies = new PolicyController(this.#ctx);
    this.#projects = new ProjectController(this.#ctx);
  }

  /** Starts reacting to changes (existing connectors are reconciled too). */
  start(): void {
    this.#unsubscribe = this.cluster.subscribe((e) => this.#onEvent(e));
    this.#connectors.resyncAll();
  }

  /** Stops every timer and the event subscription. */
  stop(): void {
    this.#unsubscribe?.();
    this.#scheduler.stop();
    this.#connectors.stop();
  }

  #onEvent(e: StoreEvent) {
    const { group, plural } = e.resource;
    if (e.plane.startsWith("org/") && plural === "projects") {
      this.#projects.onEvent(e);
      return;
    }
    if (!e.plane.startsWith("project/")) return;
    if (group === NET && plural === "httpproxies") this.#proxies.onEvent(e);
    else if (group === NET && plural === "connectoradvertisements") {
      this.#advertisements.onEvent(e);
    } else if (group === NET && plural === "trafficprotectionpolicies") this.#policies.onEvent(e);
    else this.#connectors.onEvent(e);
  }

  /** One-shot fault: delete a connector's Lease; it is recreated after `recreateAfterMs`. */
  deleteLease(value: unknown): Promise<void> {
    return this.#connectors.deleteLease(value);
  }

  /** One-shot fault: make this Connector the owner of its public key id. */
  flipIrohOwner(value: unknown): void {
    this.#connectors.flipIrohOwner(value);
  }
}
