/**
 * What controllers and the gateway see of the control planes, whichever backend holds them:
 * reads from a local view kept current by events (the emulator's store itself, or an informer
 * cache fed by watches on the real API server) and writes that go through the backend.
 */

import type { ResourceType } from "./resources.ts";
import type { JsonObject } from "./patch.ts";
import type { KubeObject, ObjectStore, StoreEvent } from "./store.ts";

/** The read side: current objects by plane key and kind, and their change events. */
export interface ControlPlaneView {
  /** One object (a copy), or undefined. */
  get(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): KubeObject | undefined;
  /** Objects of a kind in a plane; every namespace when `namespace` is undefined. */
  list(plane: string, type: ResourceType, namespace?: string): KubeObject[];
  /** Planes holding objects of a kind. */
  planesWith(type: ResourceType): string[];
  /** Calls `listener` for every change from now on; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

/** Reads plus the writes a controller makes. */
export interface Cluster extends ControlPlaneView {
  /** Creates or replaces an object (and its status), as a controller would. */
  upsert(plane: string, type: ResourceType, obj: JsonObject): Promise<KubeObject>;
  /** Deletes an object; a missing one is not an error. */
  remove(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<void>;
  /** Changes an object's status (`mutate` edits a fresh copy); undefined when it is gone. */
  writeStatus(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: KubeObject) => void,
  ): Promise<KubeObject | undefined>;
}

/** The emulator's store as a {@link Cluster}. */
export function storeCluster(store: ObjectStore): Cluster {
  return {
    get: (plane, type, namespace, name) => store.get(plane, type, namespace, name),
    list: (plane, type, namespace) => store.list(plane, type, namespace),
    planesWith: (type) => store.planesWith(type),
    subscribe: (listener) => store.subscribe(listener),
    upsert: (plane, type, obj) => Promise.resolve().then(() => store.upsert(plane, type, obj)),
    remove: (plane, type, namespace, name) =>
      Promise.resolve().then(() => {
        if (store.get(plane, type, namespace, name)) store.delete(plane, type, namespace, name);
      }),
    writeStatus: (plane, type, namespace, name, mutate) =>
      Promise.resolve().then(() => store.writeStatus(plane, type, namespace, name, mutate)),
  };
}
