/**
 * Turning control-plane failures into one readable line.
 *
 * A failure keeps its HTTP status and Kubernetes `reason`, so callers can branch on them, and the
 * client's HTTP and network failures are all worded here. The transient quota-check 403 is
 * recognised here too, so it is never reported as real quota exhaustion.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import { tlsFailure } from "../http/tls.ts";
import { apiHost } from "./urls.ts";

/** A Kubernetes `Status` object as the API servers send it on failure. */
export interface KubeStatus {
  kind: "Status";
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

/** The substring that marks the quota-check timeout (a transient 403 on create). */
export const QUOTA_CHECK_TIMEOUT_MARKER = "took too long to be checked against your quota";

/** A failed control-plane request: HTTP status (0 = no response), Kubernetes reason and body. */
export class ApiError extends CliError {
  /** HTTP status code; 0 when the server was never reached or did not answer. */
  readonly httpStatus: number;
  /** The `Status.reason` (e.g. `NotFound`), when the server sent one. */
  readonly reason?: string;
  /** The parsed `Status` body, when there was one. */
  readonly status?: KubeStatus;

  constructor(
    code: string,
    message: string,
    init: {
      httpStatus: number;
      reason?: string;
      status?: KubeStatus;
      hint?: string;
      exitCode: number;
      retryable: boolean;
      cause?: unknown;
    },
  ) {
    super(code, message, {
      hint: init.hint,
      exitCode: init.exitCode,
      retryable: init.retryable,
      cause: init.cause,
    });
    this.name = "ApiError";
    this.httpStatus = init.httpStatus;
    this.reason = init.reason;
    this.status = init.status;
  }
}

/** True for the quota-check-timeout 403 (an `ApiError`, a `Status`, or a message string). */
export function isQuotaCheckTimeout(value: unknown): boolean {
  let message: string | undefined;
  if (typeof value === "string") message = value;
  else if (value instanceof ApiError) message = value.status?.message ?? value.message;
  else if (value && typeof value === "object" && "message" in value) {
    const m = (value as { message?: unknown }).message;
    if (typeof m === "string") message = m;
  }
  return message?.toLowerCase().includes(QUOTA_CHECK_TIMEOUT_MARKER) ?? false;
}

/** Parses a body as a Kubernetes `Status`, or returns undefined. */
export function parseStatus(body: string): KubeStatus | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    if (value && typeof value === "object" && (value as { kind?: unknown }).kind === "Status") {
      return value as KubeStatus;
    }
  } catch { /* not JSON */ }
  return undefined;
}

interface DescribedResource {
  /** e.g. `connectors "c1"` or `connectors`. */
  label: string;
  plural?: string;
  name?: string;
}

/**
 * Names what a request URL addresses, from the path below the (last) control plane:
 * `…/namespaces/default/connectors/c1` → `connectors "c1"`.
 */
export function describeResource(url: string): DescribedResource {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split("?")[0];
  }
  const cp = path.lastIndexOf("/control-plane");
  if (cp >= 0) path = path.slice(cp + "/control-plane".length);
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  let rest: string[];
  if (parts[0] === "api") rest = parts.slice(2);
  else if (parts[0] === "apis") rest = parts.slice(3);
  else rest = parts;
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [plural, name] = rest;
  if (!plural) return { label: apiHost(url) };
  return { label: name ? `${plural} "${name}"` : plural, plural, name };
}

function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function codeFromReason(reason: string): string {
  return reason.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
}

function codeFromHttpStatus(status: number): string {
  const known: Record<number, string> = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
  };
  return known[status] ?? `HTTP_${status}`;
}

/**
 * The project and namespace when a write inside a project's namespace failed because the
 * namespace is missing. Datum serves any project id, an unknown one as an empty plane with no
 * namespaces: its lists are empty and a write fails `namespaces "default" not found`, which only
 * means the project does not exist.
 */
function projectWithoutNamespace(
  url: string,
  status: KubeStatus | undefined,
): { project: string; namespace: string } | undefined {
  if (status?.details?.kind !== "namespaces") return undefined;
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const m = path.match(/\/projects\/([^/]+)\/control-plane\/.*\/namespaces\/([^/]+)\/[^/]+/);
  if (!m) return undefined;
  const [project, namespace] = [m[1], m[2]].map(decodeURIComponent);
  return status.details.name === undefined || status.details.name === namespace
    ? { project, namespace }
    : undefined;
}

/** True for answers worth retrying: 429 and the 5xx family a proxy or busy server returns. */
export function isTransientHttpStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

function hintFor(httpStatus: number, reason: string | undefined, quotaTimeout: boolean): string {
  if (quotaTimeout) return "This is temporary; try again in a moment.";
  if (httpStatus === 401) {
    return "Your login has expired or was revoked. Run 'datumctl login' to sign in again.";
  }
  if (httpStatus === 403) {
    return "Check the context with 'datumctl whoami'; your account may not have access here.";
  }
  if (reason === "AlreadyExists") return "Use 'datumctl apply' to update an existing object.";
  if (httpStatus === 409) return "It changed since it was read; fetch it again and retry.";
  if (httpStatus === 404) return "Check the name and the context ('datumctl whoami').";
  if (httpStatus === 429) return "The API is limiting requests; try again in a moment.";
  if (httpStatus >= 500) return "The Datum API is having trouble; try again in a moment.";
  return "";
}

/**
 * Builds the error for a non-2xx answer: one line naming the resource, a code from the
 * `Status.reason`, exit 77 for 401/403, 69 for 5xx/429/quota-check timeout, else 1.
 */
export function apiErrorFromResponse(
  method: string,
  url: string,
  httpStatus: number,
  statusText: string,
  body: string,
): ApiError {
  const status = parseStatus(body);
  const resource = describeResource(url);
  const quotaTimeout = httpStatus === 403 && isQuotaCheckTimeout(status?.message ?? body);
  const reason = status?.reason || undefined;

  const missingProject = httpStatus === 404 ? projectWithoutNamespace(url, status) : undefined;
  if (missingProject) {
    return new ApiError(
      "PROJECT_NOT_FOUND",
      `project "${missingProject.project}" does not exist (it has no namespace "${missingProject.namespace}")`,
      {
        httpStatus,
        reason,
        status,
        hint: "Run 'datumctl ctx' to list the projects you can use.",
        exitCode: ExitCode.rejected,
        retryable: false,
      },
    );
  }

  const conflicts = httpStatus === 409
    ? (status?.details?.causes ?? []).filter((c) => c.reason === "FieldManagerConflict" && c.field)
    : [];
  let message: string;
  if (conflicts.length) {
    // Every conflicting field on its own line, with the manager that owns it.
    const lines = conflicts.map((c) => `- ${c.field}${c.message ? ` (${c.message})` : ""}`);
    const what = resource.name ? `${resource.label}: ` : "";
    message = `${what}apply failed with ${conflicts.length} conflict${
      conflicts.length > 1 ? "s" : ""
    }:\n${lines.join("\n")}`;
  } else if (status?.message) {
    message = oneLine(status.message);
    const named = resource.name ?? status.details?.name;
    const mentions = named
      ? message.includes(named)
      : resource.plural !== undefined && message.toLowerCase().includes(resource.plural);
    if (!mentions) message = `${method} ${resource.label}: ${message}`;
  } else {
    const text = oneLine(body.replace(/<[^>]*>/g, " "), 200);
    const head = `${method} ${resource.label}: HTTP ${httpStatus}${
      statusText ? ` ${statusText}` : ""
    }`;
    message = text ? `${head}: ${text}` : head;
  }

  const code = quotaTimeout
    ? "QUOTA_CHECK_TIMEOUT"
    : reason
    ? codeFromReason(reason)
    : codeFromHttpStatus(httpStatus);
  const retryable = quotaTimeout || isTransientHttpStatus(httpStatus);
  const exitCode = quotaTimeout || retryable
    ? ExitCode.unavailable
    : httpStatus === 401 || httpStatus === 403
    ? ExitCode.noPermission
    : ExitCode.error;
  return new ApiError(code, message, {
    httpStatus,
    reason,
    status,
    hint: conflicts.length
      ? "Another field manager owns these fields; run again with --force-conflicts to take them over."
      : hintFor(httpStatus, reason, quotaTimeout) || undefined,
    exitCode,
    retryable,
  });
}

/** Builds the error for a request that got no answer (refused, reset, timed out). */
export function apiErrorFromNetwork(method: string, url: string, cause: unknown): ApiError {
  const resource = describeResource(url);
  const tls = tlsFailure(cause);
  if (tls) {
    // Not a network failure: retrying cannot help until the trust is configured.
    return new ApiError("API_TLS", `${method} ${resource.label}: ${tls} for ${apiHost(url)}`, {
      httpStatus: 0,
      hint:
        "Trust the server's CA: log in with --certificate-authority FILE (kept in the session as endpoint.certificate-authority-data), or set DENO_CERT or SSL_CERT_FILE to the CA file.",
      exitCode: ExitCode.config,
      retryable: false,
      cause,
    });
  }
  const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
  const detail = timedOut
    ? "no answer in time"
    : cause instanceof Error
    ? oneLine(cause.message.replace(/^error sending request for url \([^)]*\):\s*/i, ""), 200)
    : String(cause);
  return new ApiError(
    timedOut ? "API_TIMEOUT" : "API_UNREACHABLE",
    `${method} ${resource.label}: cannot reach ${apiHost(url)} (${detail})`,
    {
      httpStatus: 0,
      hint: "Check your network connection and the API endpoint, then try again.",
      exitCode: ExitCode.unavailable,
      retryable: true,
      cause,
    },
  );
}

/** Builds the error for a 2xx answer whose body is not the JSON we asked for. */
export function apiErrorFromBadBody(method: string, url: string, cause: unknown): ApiError {
  const resource = describeResource(url);
  return new ApiError(
    "BAD_RESPONSE",
    `${method} ${resource.label}: the API answered with something that is not JSON`,
    {
      httpStatus: 0,
      hint: "Check that the endpoint is a Datum API server.",
      exitCode: ExitCode.dataError,
      retryable: false,
      cause,
    },
  );
}
