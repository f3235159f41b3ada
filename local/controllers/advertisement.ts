/**
 * The ConnectorAdvertisement controller: `Accepted`, or False `ConnectorNotFound` while its
 * connector is missing (checked again when connectors come and go).
 */

import type { StoreEvent } from "../store.ts";
import {
  conditionsOf,
  type ControllerContext,
  NET,
  refKey,
  setCondition,
  specOf,
  statusOf,
} from "./common.ts";

type Json = Record<string, unknown>;

/** Reconciles ConnectorAdvertisements. */
export class AdvertisementController {
  #generations = new Map<string, string>();

  constructor(private ctx: ControllerContext) {}

  get #advertisements() {
    return this.ctx.type(NET, "connectoradvertisements");
  }
  get #connectors() {
    return this.ctx.type(NET, "connectors");
  }

  /** Reacts to a ConnectorAdvertisement event: a new generation is reconciled. */
  onEvent(e: StoreEvent): void {
    const { namespace, name, generation } = e.object.metadata;
    const key = refKey({ plane: e.plane, namespace, name });
    if (e.type === "DELETED") {
      this.#generations.delete(key);
      return;
    }
    if (this.#generations.get(key) === String(generation)) return;
    this.#generations.set(key, String(generation));
    this.#schedule(e.plane, namespace, name, this.ctx.earlyDelay);
  }

  /** Checks again the advertisements naming a connector (it appeared or went). */
  forConnector(plane: string, namespace: string | undefined, connector: string): void {
    for (const ad of this.ctx.cluster.list(plane, this.#advertisements, namespace)) {
      if ((specOf(ad).connectorRef as Json | undefined)?.name === connector) {
        this.#schedule(plane, ad.metadata.namespace, ad.metadata.name, 0);
      }
    }
  }

  #schedule(plane: string, namespace: string | undefined, name: string, delay: number) {
    this.ctx.schedule(
      "advertisement",
      plane,
      namespace,
      name,
      delay,
      () => this.#reconcile(plane, namespace!, name),
    );
  }

  async #reconcile(plane: string, namespace: string, name: string) {
    const { cluster } = this.ctx;
    const ad = cluster.get(plane, this.#advertisements, namespace, name);
    if (!ad) return;
    const connectorName = (specOf(ad).connectorRef as Json | undefined)?.name;
    const connector = typeof connectorName === "string"
      ? cluster.get(plane, this.#connectors, namespace, connectorName)
      : undefined;
    await cluster.writeStatus(plane, this.#advertisements, namespace, name, (obj) => {
      statusOf(obj).conditions = setCondition(
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
}
