/**
 * The core Events recorded about an object, which `describe` lists at the end as kubectl does.
 * Every Datum control plane serves `events` in the core group; a plane that does not (an older
 * server) simply has none to show.
 */
import type { ResourceType } from "./discovery.ts";
import type { KubeObject } from "./objects.ts";
import type { ResourceClient } from "./operations.ts";

/** The fields of a core/v1 Event that describe shows. */
export interface KubeEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  source?: { component?: string; host?: string };
  reportingController?: string;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

async function eventsType(rc: ResourceClient): Promise<ResourceType | undefined> {
  try {
    const type = await rc.resolveType("events");
    return type.group === "" ? type : undefined;
  } catch {
    return undefined;
  }
}

/** When an event last happened (for ordering and its age). */
export function lastSeen(event: KubeEvent): string | undefined {
  return event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ??
    event.metadata?.creationTimestamp;
}

/**
 * The events about `object` (by kind, name and, when known, uid), oldest first; `undefined`
 * when the plane serves no events.
 */
export async function eventsFor(
  rc: ResourceClient,
  object: KubeObject,
): Promise<KubeEvent[] | undefined> {
  const type = await eventsType(rc);
  if (!type) return undefined;
  const meta = object.metadata ?? {};
  const selector = [
    `involvedObject.name=${meta.name ?? ""}`,
    object.kind ? `involvedObject.kind=${object.kind}` : undefined,
    meta.uid ? `involvedObject.uid=${meta.uid}` : undefined,
  ].filter(Boolean).join(",");
  const list = await rc.list(type, {
    fieldSelector: selector,
    namespace: meta.namespace,
    allNamespaces: !meta.namespace,
  });
  return (list.items as KubeEvent[]).sort((a, b) =>
    (lastSeen(a) ?? "").localeCompare(lastSeen(b) ?? "")
  );
}
