/**
 * Control-plane URL builders, and the one place that decides which names may go into a URL.
 *
 * Datum serves one Kubernetes-style API per scope: the user's, each organization's and each
 * project's control plane hang off the API host at fixed prefixes, and platform-wide calls use the
 * host itself. Everything that builds a request URL starts from one of these bases, so the prefixes
 * live only here.
 *
 * Names are data, never paths: every name, namespace and ID that becomes a path segment passes
 * {@link checkResourceName} (Kubernetes' rules), and {@link checkRequestPath} refuses any path
 * whose segments URL normalisation would rewrite (`.`, `..`, `%2e`, `%2F`, `\`), so that `.`
 * can never turn `…/httpproxies/.` into the whole collection.
 */
import { CliError, ExitCode, UsageError } from "../core/errors.ts";

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
    encodeURIComponent(checkSubject(subject))
  }/control-plane`;
}

/** An organization's control plane. */
export function organizationControlPlaneUrl(apiBase: string, organizationId: string): string {
  return `${apiBaseUrl(apiBase)}/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/organizations/${
    encodeURIComponent(checkResourceName(organizationId, "organization"))
  }/control-plane`;
}

/** A project's control plane (PCP). */
export function projectControlPlaneUrl(apiBase: string, projectId: string): string {
  return `${apiBaseUrl(apiBase)}/apis/${RESOURCE_MANAGER_GROUP}/v1alpha1/projects/${
    encodeURIComponent(checkResourceName(projectId, "project"))
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
  if (ref.namespace !== undefined) {
    path += `/namespaces/${encodeURIComponent(checkNamespace(ref.namespace))}`;
  }
  path += `/${ref.plural}`;
  // An empty name is refused, not dropped: dropping it would address the whole collection.
  if (ref.name !== undefined) path += `/${encodeURIComponent(checkResourceName(ref.name))}`;
  if (ref.subresource) path += `/${ref.subresource}`;
  return path;
}

/** Longest object name Kubernetes accepts (a DNS subdomain, which Datum's types all use). */
export const MAX_NAME_LENGTH = 253;
/** Longest namespace name (a DNS label). */
export const MAX_NAMESPACE_LENGTH = 63;

/** How a refused name is shown: quoted with control characters escaped, long ones cut. */
function shown(name: string): string {
  const quoted = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  return name.length > 40 ? `${quoted} (${name.length} characters)` : quoted;
}

/**
 * Why `name` cannot be an object name in a URL path, or `undefined` when it can. Kubernetes'
 * own rules for path segments: not empty, not `.` or `..`, no `/` and no `%`; and no longer
 * than {@link MAX_NAME_LENGTH}.
 */
export function resourceNameProblem(name: string, maxLength = MAX_NAME_LENGTH): string | undefined {
  if (name === "") return "a name may not be empty";
  if (name === "." || name === "..") return `a name may not be "." or ".."`;
  if (name.includes("/")) return `a name may not contain "/"`;
  if (name.includes("%")) return `a name may not contain "%"`;
  if (name.length > maxLength) return `a name may be at most ${maxLength} characters`;
  return undefined;
}

/**
 * Returns `name` when it is a valid object name ({@link resourceNameProblem}); otherwise throws
 * a usage error (exit 2) before anything is sent. `what` names the thing in the message
 * (`name`, `project`, `organization`, …); `hint` says where valid names are listed.
 */
export function checkResourceName(
  name: string,
  what = "name",
  hint = "Names are data, not paths: give the exact name of one object (see 'datumctl get TYPE').",
): string {
  const problem = typeof name === "string" ? resourceNameProblem(name) : "a name must be a string";
  if (problem) {
    throw new UsageError(`${shown(String(name))} is not a valid ${what}: ${problem}`, hint);
  }
  return name;
}

/** Returns `namespace` when it is a valid namespace name (a DNS label); else a usage error. */
export function checkNamespace(namespace: string): string {
  let problem = typeof namespace === "string"
    ? resourceNameProblem(namespace, MAX_NAMESPACE_LENGTH)
    : "a name must be a string";
  if (!problem && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) {
    problem =
      "a namespace is lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  if (problem) {
    throw new UsageError(
      `${shown(String(namespace))} is not a valid namespace: ${problem}`,
      "Datum keeps namespaced objects in the namespace 'default'.",
    );
  }
  return namespace;
}

/** The user ID of a token's `sub` claim as a path segment; a server-side defect otherwise. */
function checkSubject(subject: string): string {
  const problem = resourceNameProblem(subject);
  if (problem) {
    throw new CliError(
      "INVALID_SUBJECT",
      `the login's user ID ${shown(subject)} is unusable: ${problem}`,
      {
        hint: "Run 'datumctl login' again; if it repeats, report it.",
        exitCode: ExitCode.dataError,
      },
    );
  }
  return subject;
}

/**
 * Why a request path (the raw path, before any URL parser normalises it) is unsafe to send, or
 * `undefined`. A path is unsafe when a parser or the server would make it address something
 * else: a `.` or `..` segment in any spelling (`%2e`, `.%2E`, …), an encoded slash (`%2F`), or a
 * backslash (raw or `%5C`), which URL parsers treat as a slash.
 */
export function requestPathProblem(path: string): string | undefined {
  const end = path.search(/[?#]/);
  const raw = end >= 0 ? path.slice(0, end) : path;
  if (/\\|%5c/i.test(raw)) return "a backslash in the path";
  if (/%2f/i.test(raw)) return "an encoded slash (%2F) in the path";
  for (const segment of raw.split("/")) {
    const dots = segment.replace(/%2e/gi, ".");
    if (dots === "." || dots === "..") return `a "${segment}" segment in the path`;
  }
  return undefined;
}

/**
 * Returns `path` when {@link requestPathProblem} finds nothing; otherwise a usage error (exit 2).
 * Every request the API client sends passes here, whoever built its path.
 */
export function checkRequestPath(path: string): string {
  const problem = requestPathProblem(path);
  if (problem) {
    throw new UsageError(
      `refusing to send a request with ${problem}: ${shown(path)}`,
      "Names are data, not paths: '.', '..', '/' and '%' cannot appear in a resource name.",
    );
  }
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
