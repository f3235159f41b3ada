/**
 * Watches over the object store: JSON lines of ADDED / MODIFIED / DELETED events, replayed
 * from a `resourceVersion` or starting with the current objects, objects moving in and out of
 * a selector, 410 `ERROR` events for versions older than the kept history, bookmarks,
 * `sendInitialEvents`, `timeoutSeconds` and server-side tables.
 */

import { ApiError } from "../api_status.ts";
import { groupVersion, type ResourceType } from "../resources.ts";
import type { Selector } from "../selectors.ts";
import type { KubeObject, ObjectStore, StoreEvent } from "../store.ts";
import { toTable, wantsTable } from "../table.ts";
import { sortKeys } from "./http.ts";

/** How often a watch that allows bookmarks gets one. */
const BOOKMARK_INTERVAL_MS = 15_000;

/** The open watches of a server, so closing the server ends them. */
export class WatchRegistry {
  #closers = new Set<() => void>();

  /** Remembers an open watch's close function; returns the function that forgets it. */
  add(close: () => void): () => void {
    this.#closers.add(close);
    return () => this.#closers.delete(close);
  }

  /** Ends every open watch. */
  closeAll(): void {
    for (const close of [...this.#closers]) close();
  }
}

/** A streaming watch response over the objects of `type` in store plane `key`. */
export function watchResponse(
  store: ObjectStore,
  watches: WatchRegistry,
  req: Request,
  url: URL,
  key: string,
  type: ResourceType,
  namespace: string | undefined,
  matches: Selector,
): Response {
  const table = wantsTable(req.headers.get("accept"));
  const includeObject = url.searchParams.get("includeObject");
  const rvParam = url.searchParams.get("resourceVersion");
  const timeout = Number(url.searchParams.get("timeoutSeconds") ?? "0");
  const encoder = new TextEncoder();
  const inScope = (e: StoreEvent) =>
    e.plane === key && e.resource.group === type.group && e.resource.plural === type.plural &&
    (namespace === undefined || e.object.metadata.namespace === namespace);
  const encode = (type_: string, obj: KubeObject | Record<string, unknown>) => {
    const object = table && type_ !== "ERROR"
      ? toTable(
        type,
        [obj as KubeObject],
        String((obj as KubeObject).metadata.resourceVersion),
        includeObject,
      )
      : type_ === "ERROR"
      ? obj
      : sortKeys(obj);
    return encoder.encode(JSON.stringify({ type: type_, object }) + "\n");
  };
  const bookmarks = url.searchParams.get("allowWatchBookmarks") === "true";
  // A bookmark carries only the kind and the store's current resourceVersion.
  const bookmark = (annotations?: Record<string, string>) =>
    encoder.encode(
      JSON.stringify({
        type: "BOOKMARK",
        object: {
          kind: type.kind,
          apiVersion: groupVersion(type),
          metadata: {
            resourceVersion: store.resourceVersion,
            ...(annotations ? { annotations } : {}),
          },
        },
      }) + "\n",
    );
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      const matching = new Set<string>();
      const current = store.list(key, type, namespace).filter(matches);
      const initialEvents = url.searchParams.get("sendInitialEvents") === "true";
      if (!rvParam || rvParam === "0" || initialEvents) {
        for (const obj of current) controller.enqueue(encode("ADDED", obj));
        if (initialEvents && bookmarks) {
          controller.enqueue(bookmark({ "k8s.io/initial-events-end": "true" }));
        }
      } else {
        const events = store.eventsSince(Number(rvParam));
        if (events === undefined || Number.isNaN(Number(rvParam))) {
          controller.enqueue(encode(
            "ERROR",
            new ApiError(
              410,
              "Expired",
              `too old resource version: ${rvParam} (${store.resourceVersion})`,
            ).toStatus(),
          ));
          closed = true;
          controller.close();
          return;
        }
        for (const e of events) {
          if (inScope(e) && matches(e.object)) controller.enqueue(encode(e.type, e.object));
        }
      }
      for (const obj of current) matching.add(obj.metadata.name + "/" + obj.metadata.namespace);
      const unsubscribe = store.subscribe((e) => {
        if (!inScope(e)) return;
        const id = e.object.metadata.name + "/" + e.object.metadata.namespace;
        const was = matching.has(id);
        const now = e.type !== "DELETED" && matches(e.object);
        let type_: string | undefined;
        if (e.type === "DELETED") type_ = was ? "DELETED" : undefined;
        else if (now) type_ = was ? "MODIFIED" : "ADDED";
        else if (was) type_ = "DELETED";
        if (now) matching.add(id);
        else matching.delete(id);
        if (type_) {
          try {
            controller.enqueue(encode(type_, e.object));
          } catch {
            close();
          }
        }
      });
      const timer = timeout > 0 ? setTimeout(close, timeout * 1000) : undefined;
      const ticker = bookmarks
        ? setInterval(() => {
          try {
            controller.enqueue(bookmark());
          } catch {
            close();
          }
        }, BOOKMARK_INTERVAL_MS)
        : undefined;
      const forget = watches.add(close);
      cleanup = () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        if (ticker) clearInterval(ticker);
        forget();
      };
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/json", "cache-control": "no-cache" },
  });
}
