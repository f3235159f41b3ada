/**
 * The TrafficProtectionPolicy controller: `status.ancestors[]`, one per target, with
 * `Accepted` and `Programmed` after the delay.
 */

import { kubeNow, type StoreEvent } from "../store.ts";
import { type ControllerContext, NET, refKey, specOf, statusOf } from "./common.ts";

type Json = Record<string, unknown>;

/** Reconciles TrafficProtectionPolicies. */
export class PolicyController {
  #generations = new Map<string, string>();

  constructor(private ctx: ControllerContext) {}

  get #policies() {
    return this.ctx.type(NET, "trafficprotectionpolicies");
  }

  /** Reacts to a TrafficProtectionPolicy event: a new generation is reconciled. */
  onEvent(e: StoreEvent): void {
    const { namespace, name, generation } = e.object.metadata;
    const key = refKey({ plane: e.plane, namespace, name });
    if (e.type === "DELETED") {
      this.#generations.delete(key);
      return;
    }
    if (this.#generations.get(key) === String(generation)) return;
    this.#generations.set(key, String(generation));
    this.ctx.schedule(
      "policy",
      e.plane,
      namespace,
      name,
      this.ctx.settings.delayMs,
      () => this.#reconcile(e.plane, namespace!, name),
    );
  }

  async #reconcile(plane: string, namespace: string, name: string) {
    await this.ctx.cluster.writeStatus(plane, this.#policies, namespace, name, (obj) => {
      const targets = (specOf(obj).targetRefs as Json[] | undefined) ?? [];
      const generation = obj.metadata.generation;
      statusOf(obj).ancestors = targets.map((t) => ({
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
