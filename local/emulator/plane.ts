/**
 * Datum's control-plane URL layout: which plane a request path addresses (user, organization,
 * project, or the platform root) and the path inside it.
 */

import type { PlaneKind } from "../resources.ts";

/** A resolved control plane of a request. */
export interface Plane {
  kind: PlaneKind;
  /** Store key (`user/<sub>`, ...). */
  key: string;
  /** URL path of its root (no trailing slash). */
  prefix: string;
}

/** The path patterns of the user, organization and project control planes. */
export const PLANE_PATTERNS: { kind: PlaneKind; re: RegExp }[] = [
  {
    kind: "user",
    // An empty user id (`users//control-plane`) is a plane too: Datum answers it with empty lists.
    re: /^\/apis\/iam\.miloapis\.com\/v1alpha1\/users\/([^/]*)\/control-plane(\/.*)?$/,
  },
  {
    kind: "org",
    re:
      /^\/apis\/resourcemanager\.miloapis\.com\/v1alpha1\/organizations\/([^/]+)\/control-plane(\/.*)?$/,
  },
  {
    kind: "project",
    re:
      /^\/apis\/resourcemanager\.miloapis\.com\/v1alpha1\/projects\/([^/]+)\/control-plane(\/.*)?$/,
  },
];

/** The plane a path addresses: its kind, id, prefix and the rest; undefined for the root. */
export function splitPlanePath(
  path: string,
): { kind: PlaneKind; id: string; prefix: string; rest: string } | undefined {
  for (const { kind, re } of PLANE_PATTERNS) {
    const m = path.match(re);
    if (!m) continue;
    const rest = m[2] ?? "";
    return {
      kind,
      id: decodeURIComponent(m[1]),
      prefix: path.slice(0, path.length - rest.length),
      rest,
    };
  }
  return undefined;
}
