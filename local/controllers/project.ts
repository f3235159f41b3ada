/**
 * The Project controller: a Project created in an organization's control plane becomes
 * `Ready` after the delay.
 */

import type { StoreEvent } from "../store.ts";
import { conditionsOf, type ControllerContext, setCondition, statusOf } from "./common.ts";

/** Reconciles Projects of organization planes. */
export class ProjectController {
  constructor(private ctx: ControllerContext) {}

  /** Reacts to a Project event of an organization plane: new ones get Ready. */
  onEvent(e: StoreEvent): void {
    if (e.type !== "ADDED") return;
    const name = e.object.metadata.name;
    this.ctx.schedule("project", e.plane, undefined, name, this.ctx.settings.delayMs, async () => {
      const projects = this.ctx.type("resourcemanager.miloapis.com", "projects");
      await this.ctx.cluster.writeStatus(e.plane, projects, undefined, name, (obj) => {
        statusOf(obj).conditions = setCondition(conditionsOf(obj), {
          type: "Ready",
          status: "True",
          reason: "Ready",
          message: "Project is ready",
          observedGeneration: obj.metadata.generation,
        });
      });
    });
  }
}
