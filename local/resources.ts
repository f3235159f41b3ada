/**
 * The kinds the emulator serves, with what discovery, tables, selectors and defaults need to
 * know about each: a compact restatement of Datum's CRDs in code (the CRD files themselves
 * stay outside the repository).
 *
 * The live set starts with the built-in kinds; tests or the gateway wiring may add kinds to it.
 */

/** Which control plane serves a kind. */
export type PlaneKind = "platform" | "user" | "org" | "project";

/** One additionalPrinterColumn. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything the emulator knows about one kind. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a `/status` subresource: status is ignored on main writes and spec on status writes. */
  statusSubresource: boolean;
  /** Columns after Name; CRDs list Age themselves, kinds without columns get Name and Age. */
  printerColumns: PrinterColumn[];
  /** Extra fields usable in `fieldSelector` (dotted paths, e.g. `spec.connectorRef.name`). */
  selectableFields: string[];
  /** The control planes that serve it. */
  planes: PlaneKind[];
  /** Subresources besides `status` that discovery lists (e.g. a Namespace's `finalize`). */
  extraSubresources?: string[];
  /** Read-only kinds answer 405 to writes. */
  readOnly?: boolean;
  /** Status written on create (CRD defaults). */
  defaultStatus?: () => Record<string, unknown>;
  /** Description of the OpenAPI outline of a kind that local/schemas.ts does not cover. */
  description?: string;
}

/** `group/version` of a type (just `v1` for the core group). */
export function groupVersion(t: Pick<ResourceType, "group" | "version">): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** `plural.group` as Kubernetes names a resource in messages. */
export function qualifiedResource(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

const pending = (types: string[]) => () => ({
  conditions: types.map((type) => ({
    type,
    status: "Unknown",
    reason: "Pending",
    message: "Waiting for controller",
    lastTransitionTime: "1970-01-01T00:00:00Z",
  })),
});

const reconcileUnknown = () => ({
  conditions: [{
    type: "Ready",
    status: "Unknown",
    reason: "Unknown",
    message: "Waiting for control plane to reconcile",
    lastTransitionTime: "1970-01-01T00:00:00Z",
  }],
});

const RM = "resourcemanager.miloapis.com";
const NET = "networking.datumapis.com";

/** The kinds served out of the box. */
export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: "iam.miloapis.com",
    version: "v1alpha1",
    kind: "User",
    plural: "users",
    singular: "user",
    namespaced: false,
    statusSubresource: true,
    readOnly: true,
    printerColumns: [
      { name: "Email", type: "string", jsonPath: ".spec.email" },
      { name: "Given Name", type: "string", jsonPath: ".spec.givenName" },
      { name: "Family Name", type: "string", jsonPath: ".spec.familyName" },
      { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      AGE,
      { name: "State", type: "string", jsonPath: ".status.state" },
      {
        name: "Registration Approval",
        type: "string",
        jsonPath: ".status.registrationApproval",
      },
    ],
    selectableFields: ["status.registrationApproval", "spec.email"],
    planes: ["platform", "user"],
  },
  {
    group: RM,
    version: "v1alpha1",
    kind: "OrganizationMembership",
    plural: "organizationmemberships",
    singular: "organizationmembership",
    namespaced: true,
    statusSubresource: true,
    readOnly: true,
    printerColumns: [
      { name: "Organization", type: "string", jsonPath: ".spec.organizationRef.name" },
      { name: "Organization Type", type: "string", jsonPath: ".status.organization.type" },
      {
        name: "Organization Display Name",
        type: "string",
        jsonPath: ".status.organization.displayName",
      },
      { name: "User", type: "string", jsonPath: ".spec.userRef.name" },
      { name: "User Email", type: "string", jsonPath: ".status.user.email", priority: 1 },
      {
        name: "User Given Name",
        type: "string",
        jsonPath: ".status.user.givenName",
        priority: 1,
      },
      {
        name: "User Family Name",
        type: "string",
        jsonPath: ".status.user.familyName",
        priority: 1,
      },
      { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      AGE,
    ],
    selectableFields: ["spec.userRef.name", "spec.organizationRef.name"],
    planes: ["user"],
  },
  {
    group: RM,
    version: "v1alpha1",
    kind: "Organization",
    plural: "organizations",
    singular: "organization",
    namespaced: false,
    categories: ["datum"],
    statusSubresource: true,
    readOnly: true,
    printerColumns: [
      {
        name: "Display Name",
        type: "string",
        jsonPath: ".metadata.annotations.kubernetes\\.io\\/display-name",
      },
      { name: "Type", type: "string", jsonPath: ".spec.type" },
      { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      AGE,
    ],
    selectableFields: [],
    planes: ["user"],
    defaultStatus: reconcileUnknown,
  },
  {
    group: RM,
    version: "v1alpha1",
    kind: "Project",
    plural: "projects",
    singular: "project",
    namespaced: false,
    statusSubresource: true,
    printerColumns: [
      { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      AGE,
    ],
    selectableFields: [],
    planes: ["org"],
    defaultStatus: reconcileUnknown,
  },
  {
    group: NET,
    version: "v1alpha1",
    kind: "Connector",
    plural: "connectors",
    singular: "connector",
    namespaced: true,
    statusSubresource: true,
    printerColumns: [],
    selectableFields: ["status.connectionDetails.publicKey.id"],
    planes: ["project"],
    defaultStatus: pending(["Accepted"]),
  },
  {
    group: NET,
    version: "v1alpha1",
    kind: "ConnectorAdvertisement",
    plural: "connectoradvertisements",
    singular: "connectoradvertisement",
    namespaced: true,
    statusSubresource: true,
    printerColumns: [],
    selectableFields: ["spec.connectorRef.name"],
    planes: ["project"],
    defaultStatus: pending(["Accepted"]),
  },
  {
    group: NET,
    version: "v1alpha1",
    kind: "ConnectorClass",
    plural: "connectorclasses",
    singular: "connectorclass",
    namespaced: false,
    statusSubresource: true,
    printerColumns: [],
    selectableFields: [],
    planes: ["project"],
  },
  {
    group: NET,
    version: "v1alpha",
    kind: "HTTPProxy",
    plural: "httpproxies",
    singular: "httpproxy",
    namespaced: true,
    statusSubresource: true,
    printerColumns: [
      { name: "Hostname", type: "string", jsonPath: ".status.hostnames[*]" },
      {
        name: "Programmed",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="Programmed")].status',
      },
      {
        name: "Certificates",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="CertificatesReady")].status',
      },
      AGE,
    ],
    selectableFields: [],
    planes: ["project"],
    defaultStatus: pending(["Accepted", "Programmed"]),
  },
  {
    group: NET,
    version: "v1alpha",
    kind: "TrafficProtectionPolicy",
    plural: "trafficprotectionpolicies",
    singular: "trafficprotectionpolicy",
    namespaced: true,
    shortNames: ["tpp"],
    statusSubresource: true,
    printerColumns: [
      { name: "Mode", type: "string", jsonPath: ".spec.mode" },
      {
        name: "Accepted",
        type: "string",
        jsonPath: '.status.ancestors[0].conditions[?(@.type=="Accepted")].status',
      },
      {
        name: "Programmed",
        type: "string",
        jsonPath: '.status.ancestors[0].conditions[?(@.type=="Programmed")].status',
      },
      AGE,
    ],
    selectableFields: [],
    planes: ["project"],
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    singular: "lease",
    namespaced: true,
    statusSubresource: false,
    printerColumns: [
      { name: "Holder", type: "string", jsonPath: ".spec.holderIdentity" },
      AGE,
    ],
    selectableFields: [],
    planes: ["project"],
  },
  {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    singular: "namespace",
    namespaced: false,
    shortNames: ["ns"],
    statusSubresource: true,
    extraSubresources: ["finalize"],
    printerColumns: [
      { name: "Status", type: "string", jsonPath: ".status.phase" },
      AGE,
    ],
    selectableFields: ["status.phase"],
    planes: ["user", "org", "project"],
  },
  ...(["ConfigMap", "Secret"] as const).map((kind): ResourceType => ({
    group: "",
    version: "v1",
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    namespaced: true,
    ...(kind === "ConfigMap" ? { shortNames: ["cm"] } : {}),
    statusSubresource: false,
    printerColumns: [],
    selectableFields: [],
    planes: ["user", "org", "project"],
  })),
  {
    // Every real plane serves core events; `describe` lists an object's through these fields.
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    singular: "event",
    namespaced: true,
    shortNames: ["ev"],
    statusSubresource: false,
    printerColumns: [
      { name: "Type", type: "string", jsonPath: ".type" },
      { name: "Reason", type: "string", jsonPath: ".reason" },
      { name: "Object", type: "string", jsonPath: ".involvedObject.name" },
      { name: "Message", type: "string", jsonPath: ".message" },
      AGE,
    ],
    selectableFields: [
      "involvedObject.kind",
      "involvedObject.name",
      "involvedObject.namespace",
      "involvedObject.uid",
      "involvedObject.apiVersion",
      "reason",
      "type",
    ],
    planes: ["user", "org", "project"],
  },
];

/** The live set of kinds; {@link register} adds one to the planes it names. */
export class ResourceRegistry {
  #types: ResourceType[] = [...RESOURCE_TYPES];

  /** Adds (or replaces) a kind. */
  register(type: ResourceType): void {
    this.#types = this.#types.filter((t) =>
      !(t.group === type.group && t.version === type.version && t.plural === type.plural)
    );
    this.#types.push(type);
  }

  /** Kinds served by a control plane. */
  forPlane(plane: PlaneKind): ResourceType[] {
    return this.#types.filter((t) => t.planes.includes(plane));
  }

  /** Finds a kind by group, version and plural on a plane. */
  find(plane: PlaneKind, group: string, version: string, plural: string) {
    return this.forPlane(plane).find((t) =>
      t.group === group && t.version === version && t.plural === plural
    );
  }

  /** Finds a kind by group and plural on any plane (for controllers and the admin API). */
  byPlural(group: string, plural: string): ResourceType | undefined {
    return this.#types.find((t) => t.group === group && t.plural === plural);
  }

  /** Every kind. */
  all(): ResourceType[] {
    return [...this.#types];
  }
}
