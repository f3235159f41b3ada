/**
 * Control-plane URL builders (datum-api.md §3).
 *
 * Datum serves one Kubernetes-style API per scope: the user's, each organization's and each
 * project's control plane hang off the API host at fixed prefixes, and platform-wide calls use the
 * host itself. Everything that builds a request URL starts from one of these bases, so the prefixes
 * live only here.
 */

/** API group of organizations, memberships and projects. */
export const RESOURCE_MANAGER_GROUP = "resourcemanager.miloapis.com";
/** API group of users. */
export const IAM_GROUP = "iam.miloapis.com";

/**
 * Normalises an API host or URL into a base URL: adds `https://` when the scheme is missing and
 * trims trailing slashes (`api.datum.net/` → `https://api.datum.net`).
 */
export function apiBaseUrl(hostOrUrl: string): string {
  let base = hostOrUrl.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(base)) base = `https://${base}`;
  return base.replace(/\/+$/, "");
}

/** The user control plane: `{base}/apis/iam.miloapis.com/v1alpha1/users/{sub}/control-plane`. */
export function userControlPlaneUrl(apiBase: string, subject: string): string {
  return `${apiBaseUrl(apiBase)}/apis/${IAM_GROUP}/v1alpha1/users/${
    encodeURIComponent(subject)
  }/control-plane`;
}

/** An organization's control plane. */
export function organizationControlPlaneUrl(apiBase: string, organizationId: string): string {
  return `${apiBaseUrl(apiBase)}/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizations/${
    encodeURIComponent(organizationId)
  }/control-plane`;
}

/** A project's control plane (PCP). */
export function projectControlPlaneUrl(apiBase: string, projectId: string): string {
  return `${apiBaseUrl(apiBase)}/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/projects/${
    encodeURIComponent(projectId)
  }/control-plane`;
}

/** The platform-wide base (the `services` catalog lives here): the API base itself. */
export function platformUrl(apiBase: string): string {
  return apiBaseUrl(apiBase);
}

/** What {@link resourcePath} needs to address a collection or one object. */
export interface ResourceRef {
  /** API group; empty or omitted for the core group (`/api/v1`). */
  group?: string;
  version: string;
  /** Lower-case plural, e.g. `httpproxies`. */
  plural: string;
  /** Namespace of namespaced resources; Datum always uses `default`. Omit for cluster-scoped. */
  namespace?: string;
  name?: string;
  /** e.g. `status`. */
  subresource?: string;
}

/**
 * The path of a collection or object below a control plane, e.g.
 * `/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors/c1`.
 */
export function resourcePath(ref: ResourceRef): string {
  let path = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  path += `/${ref.plural}`;
  if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) path += `/${ref.subresource}`;
  return path;
}

/** The host (and port) of an API base, for display: `https://api.datum.net` → `api.datum.net`. */
export function apiHost(apiBase: string): string {
  try {
    return new URL(apiBaseUrl(apiBase)).host;
  } catch {
    return apiBase;
  }
}
