/**
 * OpenAPI v3 documents for `explain`: the `/openapi/v3` index and one document per
 * group-version with the kinds' schemas.
 *
 * The schemas are the compact ones written in `local/schemas.ts`; a kind registered at run time
 * without one gets an outline (spec, and status when it has the subresource) so `explain` still
 * finds it.
 */

import { groupVersion, type ResourceType } from "./resources.ts";
import { KIND_SCHEMAS, OBJECT_META_SCHEMA, type Schema } from "./schemas.ts";

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

function reverseGroup(group: string): string {
  return group ? group.split(".").reverse().join(".") : "io.k8s.api.core";
}

/** The component name Kubernetes gives a kind's schema. */
export function schemaName(type: ResourceType): string {
  return `${reverseGroup(type.group)}.${type.version}.${type.kind}`;
}

function kindSchema(type: ResourceType): Schema {
  const known = KIND_SCHEMAS[`${type.group}/${type.plural}`];
  if (known) return structuredClone(known);
  return {
    description: type.description ?? `${type.kind} of ${groupVersion(type)}`,
    type: "object",
    properties: {
      spec: { type: "object", description: `Desired state of the ${type.kind}.` },
      ...(type.statusSubresource
        ? { status: { type: "object", description: `Observed state of the ${type.kind}.` } }
        : {}),
    },
  };
}

/** Builds the OpenAPI documents. */
export class OpenApiDocs {
  /**
   * The `/openapi/v3` index. Like Datum's server, `serverRelativeURL` leaves out the
   * control-plane prefix (clients join it to the plane's base path).
   */
  index(types: ResourceType[]): Schema {
    const paths: Record<string, unknown> = {};
    for (const gv of new Set(types.map(groupVersion))) {
      const key = gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash(gv)}` };
    }
    return { paths };
  }

  /** The document for one group-version. */
  document(types: ResourceType[]): Schema {
    const schemas: Record<string, Schema> = {
      [OBJECT_META]: OBJECT_META_SCHEMA,
      [LIST_META]: {
        type: "object",
        description: "Paging details of a list.",
        properties: {
          resourceVersion: { type: "string", description: "Version the list was read at." },
          continue: { type: "string", description: "Token for the next page, if any." },
        },
      },
    };
    for (const type of types) {
      const base = kindSchema(type);
      const props = (base.properties ??= {}) as Record<string, Schema>;
      props.apiVersion = {
        type: "string",
        description:
          "Group and version of this representation, e.g. networking.datumapis.com/v1alpha1.",
      };
      props.kind = { type: "string", description: "The object's kind, in CamelCase." };
      props.metadata = {
        allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
        description: "Name, namespace, labels and the other fields every object has.",
      };
      const gvk = [{ group: type.group, version: type.version, kind: type.kind }];
      schemas[schemaName(type)] = { ...base, "x-kubernetes-group-version-kind": gvk };
      schemas[`${schemaName(type)}List`] = {
        type: "object",
        description: `A page of ${type.kind} objects.`,
        required: ["items"],
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          items: { type: "array", items: { $ref: `#/components/schemas/${schemaName(type)}` } },
          metadata: { allOf: [{ $ref: `#/components/schemas/${LIST_META}` }] },
        },
        "x-kubernetes-group-version-kind": [{ ...gvk[0], kind: `${type.kind}List` }],
      };
    }
    return {
      openapi: "3.0.0",
      info: { title: "Kubernetes", version: "v1.33.0" },
      paths: {},
      components: { schemas },
    };
  }
}

function hash(text: string): string {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, "0");
}
