/**
 * What every controller shares: the settings, condition helpers, the debounced per-object
 * timers that stand in for a work queue, and the context each controller gets.
 */

import type { Cluster } from "../cluster.ts";
import type { ResourceRegistry, ResourceType } from "../resources.ts";
import { kubeNow, type KubeObject } from "../store.ts";

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
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The networking group of Datum's kinds. */
export const NET = "networking.datumapis.com";

type Json = Record<string, unknown>;

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

/** A copy of an object's `status.conditions`. */
export function conditionsOf(obj: KubeObject): Condition[] {
  return [...(((obj.status ?? {}) as { conditions?: Condition[] }).conditions ?? [])];
}

/** An object's spec (empty when unset). */
export const specOf = (obj: KubeObject) => (obj.spec ?? {}) as Json;
/** An object's status, created when unset so it can be edited. */
export const statusOf = (obj: KubeObject) => (obj.status ??= {}) as Json;

/** A key naming one object across planes. */
export const refKey = (r: { plane: string; namespace?: string; name: string }) =>
  `${r.plane}|${r.namespace ?? ""}|${r.name}`;

/** Debounced timers per (what, object): scheduling again replaces the pending run. */
export class Scheduler {
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  /** Runs `fn` after `delay` ms unless the same key is scheduled again first. */
  schedule(key: string, delay: number, fn: () => void | Promise<void>): void {
    this.cancel(key);
    this.#timers.set(
      key,
      setTimeout(async () => {
        this.#timers.delete(key);
        try {
          await fn();
        } catch (e) {
          console.error(`local stack: ${key.split("|")[0]} controller failed:`, e);
        }
      }, Math.max(0, delay)),
    );
  }

  /** Drops a pending run. */
  cancel(key: string): void {
    const old = this.#timers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.#timers.delete(key);
  }

  /** Drops every pending run. */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}

/** What each controller gets. */
export class ControllerContext {
  constructor(
    readonly cluster: Cluster,
    readonly registry: ResourceRegistry,
    readonly settings: ControllerSettings,
    readonly scheduler: Scheduler,
  ) {}

  /** A registered kind; throws when it is missing. */
  type(group: string, plural: string): ResourceType {
    const t = this.registry.byPlural(group, plural);
    if (!t) throw new Error(`kind ${plural}.${group} is not registered`);
    return t;
  }

  /** Schedules `fn` for one object (`what` names the controller step). */
  schedule(
    what: string,
    plane: string,
    namespace: string | undefined,
    name: string,
    delay: number,
    fn: () => void | Promise<void>,
  ): void {
    this.scheduler.schedule(`${what}|${refKey({ plane, namespace, name })}`, delay, fn);
  }

  /** Drops a pending run for one object. */
  cancel(what: string, plane: string, namespace: string | undefined, name: string): void {
    this.scheduler.cancel(`${what}|${refKey({ plane, namespace, name })}`);
  }

  /** Accepted lands after this share of the delay. */
  get earlyDelay(): number {
    return Math.round(this.settings.delayMs * 0.4);
  }
}
