/**
 * Discovery and OpenAPI for one control plane: `/`, `/version`, `/api`, `/api/v1`, `/apis`,
 * `/apis/<group>`, `/apis/<group>/<version>`, `/openapi/v3` and its per-group documents, all
 * built from the kinds the plane serves.
 */

import type { OpenApiDocs } from "../openapi.ts";
import { groupVersion, type ResourceType } from "../resources.ts";
import { json, VERSION_INFO } from "./http.ts";

const ALL_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];
const READ_VERBS = ["get", "list", "watch"];

/** The APIResourceList entries of a kind (itself and its `/status` subresource). */
export function apiResources(type: ResourceType) {
  const verbs = type.readOnly ? READ_VERBS : ALL_VERBS;
  const main = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs,
    ...(type.shortNames ? { shortNames: type.shortNames } : {}),
    ...(type.categories ? { categories: type.categories } : {}),
    storageVersionHash: btoa(`${groupVersion(type)}/${type.kind}`).slice(0, 11),
  };
  const extra = (type.extraSubresources ?? []).map((sub) => ({
    name: `${type.plural}/${sub}`,
    singularName: "",
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: ["update"],
  }));
  if (!type.statusSubresource) return [main, ...extra];
  return [main, ...extra, {
    name: `${type.plural}/status`,
    singularName: "",
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.readOnly ? ["get"] : ["get", "patch", "update"],
  }];
}

/** The APIGroup of a group (its versions, the longest/newest preferred). */
export function apiGroup(group: string, types: ResourceType[]) {
  const versions = [...new Set(types.filter((t) => t.group === group).map((t) => t.version))]
    .sort((a, b) => (b.length - a.length) || b.localeCompare(a))
    .map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

function openapiJson(body: unknown): Response {
  return json(body, 200, { "content-type": "text/plain; charset=utf-8" });
}

/** Answers a discovery or OpenAPI path of a plane, or undefined when `rest` is not one. */
export async function discoveryResponse(
  rest: string,
  types: ResourceType[],
  openapi: OpenApiDocs,
): Promise<Response | undefined> {
  if (rest === "" || rest === "/") {
    const paths = ["/api", "/api/v1", "/apis", "/openapi/v3", "/version"];
    for (const t of types) {
      if (t.group) paths.push(`/apis/${t.group}`, `/apis/${groupVersion(t)}`);
    }
    return json({ paths: [...new Set(paths)].sort() });
  }
  if (rest === "/version") return json(VERSION_INFO);
  if (rest === "/api") {
    return json({
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
    });
  }
  if (rest === "/api/v1") {
    return json({
      kind: "APIResourceList",
      groupVersion: "v1",
      resources: types.filter((t) => t.group === "").flatMap(apiResources),
    });
  }
  if (rest === "/apis") {
    const groups = [...new Set(types.map((t) => t.group).filter(Boolean))].sort();
    return json({
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: groups.map((g) => apiGroup(g, types)),
    });
  }
  let m = rest.match(/^\/apis\/([^/]+)\/?$/);
  if (m && types.some((t) => t.group === m![1])) {
    return json({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(m[1], types) });
  }
  m = rest.match(/^\/apis\/([^/]+)\/([^/]+)\/?$/);
  if (m) {
    const inGv = types.filter((t) => t.group === m![1] && t.version === m![2]);
    if (inGv.length) {
      return json({
        kind: "APIResourceList",
        apiVersion: "v1",
        groupVersion: `${m[1]}/${m[2]}`,
        resources: inGv.flatMap(apiResources),
      });
    }
  }
  // Datum's server sends its OpenAPI documents as text/plain.
  if (rest === "/openapi/v3") return openapiJson(openapi.index(types));
  m = rest.match(/^\/openapi\/v3\/(?:apis\/([^/]+)\/([^/]+)|api\/(v1))$/);
  if (m) {
    const [group, version] = m[3] ? ["", "v1"] : [m[1], m[2]];
    const inGv = types.filter((t) => t.group === group && t.version === version);
    if (inGv.length) return openapiJson(await openapi.document(inGv));
  }
  return undefined;
}
