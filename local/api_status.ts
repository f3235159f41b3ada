/**
 * Kubernetes `metav1.Status` errors as the emulator raises and serialises them.
 *
 * An error thrown anywhere in the emulator becomes a Status body in the HTTP layer; the common
 * cases are worded as Kubernetes words them.
 */

import { qualifiedResource, type ResourceType } from "./resources.ts";

/** Extra detail of a Status (`details`). */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  uid?: string;
  retryAfterSeconds?: number;
}

/** An API failure with its HTTP code, `reason` and message. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  /** The `metav1.Status` body. */
  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** 404 for an object. */
export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

/** 409 for a create over an existing name. */
export function alreadyExists(type: ResourceType, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(type)} "${name}" already exists`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

/** 409 for a write with a stale resourceVersion. */
export function conflict(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${
      qualifiedResource(type)
    } "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );
}

/** The `reason` Kubernetes gives a field error, read from its message. */
function fieldReason(message: string): string {
  if (message.startsWith("Too many")) return "FieldValueTooMany";
  if (message.startsWith("Too long")) return "FieldValueTooLong";
  if (message.startsWith("Required value")) return "FieldValueRequired";
  if (message.startsWith("Unsupported value")) return "FieldValueNotSupported";
  return "FieldValueInvalid";
}

/** What a kind with CEL rules adds when schema errors stopped the rules from running. */
export const RULES_NOT_CHECKED = {
  field: "<nil>",
  message:
    'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};

/** 422 with field causes (`[a, b]` when there are several, as Kubernetes writes them). */
export function invalid(
  type: ResourceType,
  name: string,
  causes: { field: string; message: string; reason?: string }[],
): ApiError {
  const kind = type.group ? `${type.kind}.${type.group}` : type.kind;
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  return new ApiError(
    422,
    "Invalid",
    `${kind} "${name}" is invalid: ${text.length > 1 ? `[${text.join(", ")}]` : text[0]}`,
    {
      name,
      group: type.group,
      kind: type.kind,
      causes: causes.map((c) => ({
        reason: c.reason ?? fieldReason(c.message),
        message: c.message,
        field: c.field,
      })),
    },
  );
}

/** 400 with a message. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** 403 for a user acting outside what they may see. */
export function forbidden(
  user: string,
  verb: string,
  type: { plural: string; group: string },
  name?: string,
  scope?: string,
): ApiError {
  const resource = type.group ? `${type.plural}.${type.group}` : type.plural;
  const subject = name ? `${resource} "${name}"` : resource;
  const where = scope ? ` ${scope}` : "";
  return new ApiError(
    403,
    "Forbidden",
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${type.plural}" in API group "${type.group}"${where}`,
    { name, group: type.group, kind: type.plural },
  );
}
