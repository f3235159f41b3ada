/**
 * CustomResourceDefinitions for the real API server, built from what the emulator already knows
 * of each kind: names, scope, short names, categories, printer columns, selectable fields and
 * the status subresource from `local/resources.ts`, the schema from `local/schemas.ts`, plus the
 * schema facts only a real server acts on: status defaults, condition lists keyed by `type`,
 * and the CEL rules Datum's CRDs carry on the fields datumctl writes.
 */

import { groupVersion, type ResourceType } from "../resources.ts";
import { KIND_SCHEMAS, type Schema } from "../schemas.ts";

/** `plural.group`, the name a CRD must have. */
export function crdName(type: ResourceType): string {
  return `${type.plural}.${type.group}`;
}

/** Kinds a CRD can serve: every kind with a group (the core group is the router's own). */
export function CRD_KINDS(types: ResourceType[]): ResourceType[] {
  return types.filter((t) => t.group !== "");
}

type Rule = { rule: string; message: string };

/** CEL rules of Datum's CRDs, by dotted schema path (`[]` = the items of a list). */
const RULES: Record<string, Record<string, Rule[]>> = {
  "networking.datumapis.com/connectors": {
    "status.connectionDetails": [
      {
        rule: "!(self.type != 'PublicKey' && has(self.publicKey))",
        message: "publicKey field must be nil if the type is not PublicKey",
      },
      {
        rule: "self.type == 'PublicKey' && has(self.publicKey)",
        message: "publicKey field must be specified if the type is PublicKey",
      },
    ],
    "status.connectionDetails.publicKey.homeRelay": [
      { rule: "isURL(self)", message: "Must be a URL." },
    ],
    "status.connectionDetails.publicKey.addresses[].address": [
      { rule: "isIP(self)", message: "Must be an IP address." },
    ],
  },
  "networking.datumapis.com/httpproxies": {
    "spec.rules": [{
      rule:
        "self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))",
      message: "Rule name must be unique within the route",
    }],
    "spec.rules[].backends[]": [{
      rule:
        "has(self.instance) ? (!has(self.endpoint) && !has(self.connector)) : has(self.endpoint)",
      message: "endpoint is required unless instance is set, and instance excludes endpoint",
    }],
  },
  "resourcemanager.miloapis.com/organizations": {
    "spec.type": [{
      rule: "type(oldSelf) == null_type || self == oldSelf",
      message: "organization type is immutable",
    }],
  },
  "networking.datumapis.com/trafficprotectionpolicies": {
    "spec": [
      {
        rule:
          "has(self.targetRefs) ? self.targetRefs.all(ref, ref.group == 'gateway.networking.k8s.io') : true",
        message: "this policy can only have a targetRefs[*].group of gateway.networking.k8s.io",
      },
      {
        rule:
          "has(self.targetRefs) ? self.targetRefs.all(ref, ref.kind in ['Gateway', 'HTTPRoute']) : true",
        message: "this policy can only have a targetRefs[*].kind of Gateway/HTTPRoute",
      },
    ],
  },
};

/** Whether a kind's CRD carries CEL rules (then schema errors say some rules were not run). */
export function hasValidationRules(type: Pick<ResourceType, "group" | "plural">): boolean {
  return `${type.group}/${type.plural}` in RULES;
}

function at(schema: Schema, path: string): Schema | undefined {
  let node: Schema | undefined = schema;
  for (const part of path.split(".")) {
    const [name, ...lists] = part.split("[]");
    node = (node?.properties as Record<string, Schema> | undefined)?.[name];
    for (const _ of lists) node = node?.items as Schema | undefined;
  }
  return node;
}

/** Marks every `conditions` list whose items have a `type` as a map keyed by it. */
function keyConditions(schema: Schema): void {
  const props = schema.properties as Record<string, Schema> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) {
    const items = child.items as Schema | undefined;
    if (
      name === "conditions" && child.type === "array" &&
      (items?.properties as Record<string, unknown> | undefined)?.type
    ) {
      child["x-kubernetes-list-type"] = "map";
      child["x-kubernetes-list-map-keys"] = ["type"];
    }
    keyConditions(child);
    if (items) keyConditions(items);
  }
}

function schemaOf(type: ResourceType): Schema {
  const known = KIND_SCHEMAS[`${type.group}/${type.plural}`];
  const schema: Schema = known ? structuredClone(known) : {
    type: "object",
    description: type.description ?? `${type.kind} of ${groupVersion(type)}`,
    properties: {
      spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      ...(type.statusSubresource
        ? { status: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }
        : {}),
    },
  };
  const props = (schema.properties ??= {}) as Record<string, Schema>;
  props.apiVersion = { type: "string" };
  props.kind = { type: "string" };
  props.metadata = { type: "object" };
  keyConditions(schema);
  if (type.defaultStatus && props.status) props.status.default = type.defaultStatus();
  for (const [path, rules] of Object.entries(RULES[`${type.group}/${type.plural}`] ?? {})) {
    const node = at(schema, path);
    if (!node) throw new Error(`CRD rule path ${path} is not in the ${type.kind} schema`);
    node["x-kubernetes-validations"] = rules;
  }
  return schema;
}

/** The CustomResourceDefinition (apiextensions.k8s.io/v1) of a kind. */
export function crdFor(type: ResourceType): Record<string, unknown> {
  const builtInGroup = /(^|\.)k8s\.io$|(^|\.)kubernetes\.io$/.test(type.group);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: crdName(type),
      // Groups under k8s.io are reserved for Kubernetes' own APIs; the stand-in says so.
      ...(builtInGroup
        ? { annotations: { "api-approved.kubernetes.io": "unapproved, local stand-in" } }
        : {}),
    },
    spec: {
      group: type.group,
      scope: type.namespaced ? "Namespaced" : "Cluster",
      names: {
        kind: type.kind,
        listKind: `${type.kind}List`,
        plural: type.plural,
        singular: type.singular,
        ...(type.shortNames ? { shortNames: type.shortNames } : {}),
        ...(type.categories ? { categories: type.categories } : {}),
      },
      versions: [{
        name: type.version,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: schemaOf(type) },
        ...(type.statusSubresource ? { subresources: { status: {} } } : {}),
        ...(type.printerColumns.length
          ? {
            additionalPrinterColumns: type.printerColumns.map((c) => ({
              name: c.name,
              type: c.type,
              jsonPath: c.jsonPath,
              ...(c.description ? { description: c.description } : {}),
              ...(c.priority ? { priority: c.priority } : {}),
            })),
          }
          : {}),
        ...(type.selectableFields.length
          ? { selectableFields: type.selectableFields.map((f) => ({ jsonPath: `.${f}` })) }
          : {}),
      }],
    },
  };
}
