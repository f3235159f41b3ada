/**
 * OpenAPI v3 documents for `explain`: the `/openapi/v3` index and one document per
 * group-version with the kinds' schemas.
 *
 * Exports {@link OpenApiDocs}. Schemas come from Datum's CRD files when a directory of them is
 * given (read lazily, on the first request; local/ is never shipped, so reading them is fine),
 * else from a small outline written here.
 */

import { groupVersion, type ResourceType } from "./resources.ts";

type Schema = Record<string, unknown>;

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

const objectMetaSchema: Schema = {
  description:
    "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
  type: "object",
  properties: {
    name: { type: "string", description: "Name must be unique within a namespace." },
    generateName: {
      type: "string",
      description:
        "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.",
    },
    namespace: {
      type: "string",
      description: "Namespace defines the space within which each name must be unique.",
    },
    uid: {
      type: "string",
      description: "UID is the unique in time and space value for this object.",
    },
    resourceVersion: {
      type: "string",
      description: "An opaque value that represents the internal version of this object.",
    },
    generation: {
      type: "integer",
      format: "int64",
      description: "A sequence number representing a specific generation of the desired state.",
    },
    creationTimestamp: {
      type: "string",
      format: "date-time",
      description:
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    },
    deletionTimestamp: { type: "string", format: "date-time" },
    labels: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "Map of string keys and values that can be used to organize and categorize objects.",
    },
    annotations: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Annotations is an unstructured key value map stored with a resource.",
    },
    finalizers: { type: "array", items: { type: "string" } },
    ownerReferences: { type: "array", items: { type: "object" } },
    managedFields: { type: "array", items: { type: "object" } },
  },
};

const OUTLINES: Record<string, Schema> = {
  "coordination.k8s.io/leases": {
    type: "object",
    properties: {
      spec: {
        type: "object",
        description: "spec contains the specification of the Lease.",
        properties: {
          holderIdentity: {
            type: "string",
            description: "holderIdentity contains the identity of the holder of a current lease.",
          },
          leaseDurationSeconds: {
            type: "integer",
            format: "int32",
            description:
              "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.",
          },
          acquireTime: { type: "string", format: "date-time" },
          renewTime: {
            type: "string",
            format: "date-time",
            description:
              "renewTime is a time when the current holder of a lease has last updated the lease.",
          },
          leaseTransitions: { type: "integer", format: "int32" },
        },
      },
    },
  },
};

function reverseGroup(group: string): string {
  return group ? group.split(".").reverse().join(".") : "io.k8s.api.core";
}

/** The component name Kubernetes gives a kind's schema. */
export function schemaName(type: ResourceType): string {
  return `${reverseGroup(type.group)}.${type.version}.${type.kind}`;
}

function outline(type: ResourceType): Schema {
  const known = OUTLINES[`${type.group}/${type.plural}`];
  return {
    description: type.description ?? `${type.kind} of ${groupVersion(type)}`,
    type: "object",
    properties: {
      spec: { type: "object", description: `Desired state of the ${type.kind}.` },
      ...(type.statusSubresource
        ? { status: { type: "object", description: `Observed state of the ${type.kind}.` } }
        : {}),
      ...(known?.properties as Schema ?? {}),
    },
  };
}

/** Builds and caches the OpenAPI documents. */
export class OpenApiDocs {
  #crdDir?: string;
  #crdSchemas?: Promise<Map<string, Schema>>;

  constructor(crdDir?: string) {
    this.#crdDir = crdDir;
  }

  #loadCrds(): Promise<Map<string, Schema>> {
    this.#crdSchemas ??= (async () => {
      const out = new Map<string, Schema>();
      if (!this.#crdDir) return out;
      const { parse } = await import("yaml");
      let entries: Deno.DirEntry[] = [];
      try {
        entries = [...Deno.readDirSync(this.#crdDir)];
      } catch {
        return out;
      }
      for (const entry of entries) {
        if (!entry.name.endsWith(".yaml")) continue;
        try {
          const crd = parse(await Deno.readTextFile(`${this.#crdDir}/${entry.name}`));
          for (const v of crd?.spec?.versions ?? []) {
            const schema = v?.schema?.openAPIV3Schema;
            if (schema) out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.plural}`, schema);
          }
        } catch {
          // A file that does not parse only costs `explain` its detail.
        }
      }
      return out;
    })();
    return this.#crdSchemas;
  }

  /** The `/openapi/v3` index for a control plane whose root URL path is `prefix`. */
  index(prefix: string, types: ResourceType[]): Schema {
    const paths: Record<string, unknown> = {};
    for (const gv of new Set(types.map(groupVersion))) {
      const key = gv.includes("/") ? `apis/${gv}` : `api/${gv}`;
      paths[key] = { serverRelativeURL: `${prefix}/openapi/v3/${key}?hash=${hash(gv)}` };
    }
    return { paths };
  }

  /** The document for one group-version. */
  async document(types: ResourceType[]): Promise<Schema> {
    const crds = await this.#loadCrds();
    const schemas: Record<string, Schema> = {
      [OBJECT_META]: objectMetaSchema,
      [LIST_META]: {
        type: "object",
        properties: { resourceVersion: { type: "string" }, continue: { type: "string" } },
      },
    };
    for (const type of types) {
      const base = structuredClone(
        crds.get(`${type.group}/${type.version}/${type.plural}`) ?? outline(type),
      );
      const props = (base.properties ??= {}) as Record<string, Schema>;
      props.apiVersion = {
        type: "string",
        description: "APIVersion defines the versioned schema of this representation of an object.",
      };
      props.kind = {
        type: "string",
        description:
          "Kind is a string value representing the REST resource this object represents.",
      };
      props.metadata = {
        allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
        description: "Standard object's metadata.",
      };
      const gvk = [{ group: type.group, version: type.version, kind: type.kind }];
      schemas[schemaName(type)] = { ...base, "x-kubernetes-group-version-kind": gvk };
      schemas[`${schemaName(type)}List`] = {
        type: "object",
        description: `${type.kind}List is a list of ${type.kind}`,
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
