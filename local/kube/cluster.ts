/**
 * The control planes of the real API servers as a {@link Cluster}: one informer per plane and
 * kind (list, then watch from the list's resourceVersion, relisting after a 410), a cache the
 * controllers and the gateway read synchronously, change events in the store's shape, and
 * writes through the REST API with the controllers' identity (status through `/status`, retried
 * on conflicts).
 */

import type { Cluster } from "../cluster.ts";
import { deepEqual, type JsonObject } from "../patch.ts";
import { groupVersion, type ResourceType } from "../resources.ts";
import type { KubeObject, StoreEvent } from "../store.ts";
import { type KubeClient, KubeRequestError } from "./client.ts";

/** The REST path of a kind's collection, or of one object when `name` is given. */
export function objectPath(type: ResourceType, namespace?: string, name?: string): string {
  const root = type.group ? `/apis/${groupVersion(type)}` : "/api/v1";
  const ns = type.namespaced && namespace !== undefined
    ? `/namespaces/${encodeURIComponent(namespace)}`
    : "";
  return `${root}${ns}/${type.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ""}`;
}

const objectKey = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** The informer caches and REST writes over every started plane. */
export class KubeCluster implements Cluster {
  #clients = new Map<string, KubeClient>();
  #caches = new Map<string, Map<string, KubeObject>>();
  #listeners = new Set<(event: StoreEvent) => void>();
  #abort = new AbortController();

  #cache(plane: string, type: ResourceType): Map<string, KubeObject> {
    const key = `${plane}|${type.group}|${type.plural}`;
    let cache = this.#caches.get(key);
    if (!cache) this.#caches.set(key, cache = new Map());
    return cache;
  }

  #client(plane: string): KubeClient {
    const client = this.#clients.get(plane);
    if (!client) throw new Error(`control plane ${plane} is not running`);
    return client;
  }

  /** Starts informing on a plane's kinds; resolves once every first list is in the cache. */
  async addPlane(plane: string, client: KubeClient, types: ResourceType[]): Promise<void> {
    this.#clients.set(plane, client);
    await Promise.all(types.map((t) => this.addKind(plane, t)));
  }

  /** Starts informing on one more kind of a running plane. */
  async addKind(plane: string, type: ResourceType): Promise<void> {
    const resourceVersion = await this.#relist(plane, type);
    void this.#watchLoop(plane, type, resourceVersion);
  }

  #emit(plane: string, type: ResourceType, kind: StoreEvent["type"], object: KubeObject) {
    const cache = this.#cache(plane, type);
    if (kind === "DELETED") cache.delete(objectKey(object));
    else cache.set(objectKey(object), object);
    const event: StoreEvent = {
      type: kind,
      plane,
      resource: type,
      object: structuredClone(object),
      resourceVersion: Number(object.metadata.resourceVersion),
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (e) {
        console.error("local stack: cluster listener failed:", e);
      }
    }
  }

  /** Lists a kind and brings the cache in line with it; returns the list's resourceVersion. */
  async #relist(plane: string, type: ResourceType): Promise<string> {
    const list = await this.#client(plane).json<{
      metadata: { resourceVersion: string };
      items: KubeObject[];
    }>("GET", objectPath(type));
    const cache = this.#cache(plane, type);
    const seen = new Set<string>();
    for (const item of list.items) {
      item.apiVersion ??= groupVersion(type);
      item.kind ??= type.kind;
      seen.add(objectKey(item));
      const old = cache.get(objectKey(item));
      if (!old) this.#emit(plane, type, "ADDED", item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) {
        this.#emit(plane, type, "MODIFIED", item);
      }
    }
    for (const [key, old] of [...cache]) {
      if (!seen.has(key)) this.#emit(plane, type, "DELETED", old);
    }
    return list.metadata.resourceVersion;
  }

  async #watchLoop(plane: string, type: ResourceType, from: string) {
    let resourceVersion = from;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const query = `?watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`;
        for await (const event of this.#client(plane).watch(objectPath(type) + query, signal)) {
          const object = event.object as KubeObject;
          if (event.type === "ERROR") {
            const code = (event.object as { code?: number }).code;
            if (code === 410) resourceVersion = await this.#relist(plane, type);
            else await new Promise((r) => setTimeout(r, 200));
            break;
          }
          resourceVersion = object.metadata.resourceVersion;
          if (event.type === "BOOKMARK") continue;
          this.#emit(plane, type, event.type as StoreEvent["type"], object);
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof KubeRequestError && e.code === 410) {
          resourceVersion = await this.#relist(plane, type).catch(() => resourceVersion);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Ends every watch. */
  stop(): void {
    this.#abort.abort();
  }

  get(plane: string, type: ResourceType, namespace: string | undefined, name: string) {
    const obj = this.#cache(plane, type).get(`${type.namespaced ? namespace ?? "" : ""}/${name}`);
    return obj ? structuredClone(obj) : undefined;
  }

  list(plane: string, type: ResourceType, namespace?: string): KubeObject[] {
    return [...this.#cache(plane, type).values()]
      .filter((o) =>
        namespace === undefined || !type.namespaced || o.metadata.namespace === namespace
      )
      .map((o) => structuredClone(o))
      .sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
  }

  planesWith(type: ResourceType): string[] {
    const planes: string[] = [];
    for (const [key, cache] of this.#caches) {
      const [plane, group, plural] = key.split("|");
      if (group === type.group && plural === type.plural && cache.size > 0) planes.push(plane);
    }
    return planes;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async upsert(plane: string, type: ResourceType, obj: JsonObject): Promise<KubeObject> {
    const client = this.#client(plane);
    const meta = obj.metadata as JsonObject;
    const namespace = meta.namespace as string | undefined;
    const name = String(meta.name);
    const { status, ...main } = obj;
    const body = { apiVersion: groupVersion(type), kind: type.kind, ...main };
    for (let attempt = 0;; attempt++) {
      try {
        let stored: KubeObject;
        try {
          const current = await client.json<KubeObject>("GET", objectPath(type, namespace, name));
          stored = await client.json<KubeObject>("PUT", objectPath(type, namespace, name), {
            ...body,
            metadata: { ...meta, resourceVersion: current.metadata.resourceVersion },
          });
        } catch (e) {
          if (!(e instanceof KubeRequestError && e.code === 404)) throw e;
          stored = await client.json<KubeObject>("POST", objectPath(type, namespace), body);
        }
        if (status === undefined) return stored;
        const sub = type.statusSubresource ? "/status" : "";
        return await client.json<KubeObject>(
          "PUT",
          objectPath(type, namespace, name) + sub,
          { ...stored, status },
        );
      } catch (e) {
        if (!(e instanceof KubeRequestError && e.code === 409) || attempt >= 5) throw e;
      }
    }
  }

  async remove(plane: string, type: ResourceType, namespace: string | undefined, name: string) {
    try {
      await this.#client(plane).json("DELETE", objectPath(type, namespace, name));
    } catch (e) {
      if (!(e instanceof KubeRequestError && e.code === 404)) throw e;
    }
  }

  async writeStatus(
    plane: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: KubeObject) => void,
  ): Promise<KubeObject | undefined> {
    const client = this.#client(plane);
    const path = objectPath(type, namespace, name);
    for (let attempt = 0;; attempt++) {
      let current: KubeObject;
      try {
        current = await client.json<KubeObject>("GET", path);
      } catch (e) {
        if (e instanceof KubeRequestError && e.code === 404) return undefined;
        throw e;
      }
      const draft = structuredClone(current);
      mutate(draft);
      if (deepEqual(draft.status, current.status)) return current;
      try {
        return await client.json<KubeObject>(
          "PUT",
          path + (type.statusSubresource ? "/status" : ""),
          draft,
        );
      } catch (e) {
        if (e instanceof KubeRequestError && e.code === 404) return undefined;
        if (!(e instanceof KubeRequestError && e.code === 409) || attempt >= 5) throw e;
      }
    }
  }
}
