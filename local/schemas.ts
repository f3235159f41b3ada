/**
 * Compact OpenAPI schemas of the kinds the emulator serves, so `explain` has something true to
 * show: field names, types, nesting, required fields, limits and defaults follow Datum's CRDs
 * (and Kubernetes for Lease, Namespace, Event and ObjectMeta); the descriptions are short notes of our
 * own. This is a restatement in code: the CRD files are read by developers, never by the program.
 *
 * Schemas are keyed `group/plural`, the core group being empty.
 */

/** An OpenAPI v3 schema object. */
export type Schema = Record<string, unknown>;

// Fields wrapped in req() land in their parent's `required` list (see obj()).
const REQUIRED = new WeakSet<Schema>();

function req(schema: Schema): Schema {
  REQUIRED.add(schema);
  return schema;
}

function str(description: string, extra: Schema = {}): Schema {
  return { type: "string", description, ...extra };
}

function int(description: string, extra: Schema = {}): Schema {
  return { type: "integer", description, ...extra };
}

function bool(description: string): Schema {
  return { type: "boolean", description };
}

function obj(description: string, properties: Record<string, Schema> = {}, extra = {}): Schema {
  const required = Object.keys(properties).filter((k) => REQUIRED.has(properties[k]));
  return {
    type: "object",
    description,
    properties,
    ...(required.length ? { required } : {}),
    ...extra,
  };
}

function list(description: string, items: Schema, extra: Schema = {}): Schema {
  return { type: "array", description, items, ...extra };
}

const port = (description: string) =>
  int(description, { format: "int32", minimum: 1, maximum: 65535 });
const dns = (description: string, extra: Schema = {}) =>
  str(description, { minLength: 1, maxLength: 253, ...extra });

/** The usual list of status conditions (metav1.Condition). */
function conditions(description: string, extra: Schema = {}): Schema {
  return list(
    description,
    obj("One observation of the object's state.", {
      type: req(str("What the condition is about, e.g. Ready.", { maxLength: 316 })),
      status: req(str("Whether it holds.", { enum: ["True", "False", "Unknown"] })),
      reason: req(str("Machine-readable cause, CamelCase.", { minLength: 1, maxLength: 1024 })),
      message: req(str("Human-readable details.", { maxLength: 32768 })),
      lastTransitionTime: req(str("When status last changed.", { format: "date-time" })),
      observedGeneration: int("The metadata.generation this was computed for.", {
        format: "int64",
        minimum: 0,
      }),
    }),
    extra,
  );
}

const headerName = () => str("Header name (case-insensitive).", { minLength: 1, maxLength: 256 });

function headerList(description: string): Schema {
  return list(
    description,
    obj("A header and its value.", {
      name: req(headerName()),
      value: req(str("Header value.", { minLength: 1, maxLength: 4096 })),
    }),
    { maxItems: 16 },
  );
}

function headerModifier(description: string): Schema {
  return obj(description, {
    set: headerList("Headers to write, replacing any existing value."),
    add: headerList("Headers to append to any existing value."),
    remove: list("Header names to drop.", str("Header name."), { maxItems: 16 }),
  });
}

function pathModifier(description: string): Schema {
  return obj(description, {
    type: req(
      str("Which kind of replacement.", { enum: ["ReplaceFullPath", "ReplacePrefixMatch"] }),
    ),
    replaceFullPath: str("The new path (with ReplaceFullPath).", { maxLength: 1024 }),
    replacePrefixMatch: str("Replaces the matched prefix (with ReplacePrefixMatch).", {
      maxLength: 1024,
    }),
  });
}

function backendRef(description: string): Schema {
  return obj(description, {
    group: str("API group of the target; empty for the core group.", {
      maxLength: 253,
      default: "",
    }),
    kind: str("Kind of the target.", { minLength: 1, maxLength: 63, default: "Service" }),
    name: req(dns("Name of the target.")),
    namespace: str("Namespace of the target; the route's own when unset.", {
      minLength: 1,
      maxLength: 63,
    }),
    port: port("Port on the target; needed for Services."),
  });
}

const HTTP_METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
];

/** A Gateway API HTTPRoute filter, as HTTPProxy rules and backends take them. */
function filters(description: string): Schema {
  const headerNames = (d: string) => list(d, headerName(), { maxItems: 64 });
  return list(
    description,
    obj("One filter; `type` names the one sub-field that configures it.", {
      type: req(str("The filter to apply.", {
        enum: [
          "RequestHeaderModifier",
          "ResponseHeaderModifier",
          "RequestMirror",
          "RequestRedirect",
          "URLRewrite",
          "ExtensionRef",
          "CORS",
        ],
      })),
      requestHeaderModifier: headerModifier("Changes headers on the way to the backend."),
      responseHeaderModifier: headerModifier("Changes headers on the way back to the client."),
      requestMirror: obj("Also sends a copy of requests elsewhere; replies are ignored.", {
        backendRef: req(backendRef("Where the copies go.")),
        percent: int("Share of requests to copy (0-100); not with fraction.", {
          format: "int32",
          minimum: 0,
          maximum: 100,
        }),
        fraction: obj("Share of requests to copy as a fraction; not with percent.", {
          numerator: req(int("Top of the fraction.", { format: "int32", minimum: 0 })),
          denominator: int("Bottom of the fraction.", {
            format: "int32",
            minimum: 1,
            default: 100,
          }),
        }),
      }),
      requestRedirect: obj("Answers with a redirect instead of proxying.", {
        scheme: str("Scheme of the new location.", { enum: ["http", "https"] }),
        hostname: dns("Host of the new location."),
        path: pathModifier("Path of the new location."),
        port: port("Port of the new location."),
        statusCode: int("HTTP status of the redirect.", {
          enum: [301, 302, 303, 307, 308],
          default: 302,
        }),
      }),
      urlRewrite: obj("Rewrites host or path before proxying.", {
        hostname: dns("Host header to send instead."),
        path: pathModifier("How to rewrite the path."),
      }),
      extensionRef: obj("Points at an implementation-specific filter object.", {
        group: req(str("API group of the object.", { maxLength: 253 })),
        kind: req(str("Kind of the object.", { minLength: 1, maxLength: 63 })),
        name: req(dns("Name of the object.")),
      }),
      cors: obj("Answers cross-origin preflights and adds CORS headers.", {
        allowOrigins: list(
          "Origins allowed, as scheme://host[:port] (host may start with *.) or *.",
          str("An origin.", { minLength: 1, maxLength: 253 }),
          { maxItems: 64 },
        ),
        allowMethods: list(
          "Methods allowed, or * alone.",
          str("A method.", { enum: [...HTTP_METHODS, "*"] }),
          { maxItems: 9 },
        ),
        allowHeaders: headerNames("Request headers allowed, or * alone."),
        exposeHeaders: headerNames("Response headers scripts may read."),
        allowCredentials: bool("Whether credentials may be sent."),
        maxAge: int("Seconds a preflight answer may be cached.", {
          format: "int32",
          minimum: 1,
          default: 5,
        }),
      }),
      externalAuth: obj("Asks an outside service whether to let each request through.", {
        protocol: req(str("How to talk to it.", { enum: ["HTTP", "GRPC"] })),
        backendRef: req(backendRef("The authorization service.")),
        http: obj("Settings for HTTP.", {
          path: str("Path prefix for the check requests.", { maxLength: 1024 }),
          allowedHeaders: list("Request headers to pass on.", str("Header name."), {
            maxItems: 64,
          }),
          allowedResponseHeaders: list("Its response headers to copy.", str("Header name."), {
            maxItems: 64,
          }),
        }),
        grpc: obj("Settings for gRPC.", {
          allowedHeaders: list("Request headers to pass on.", str("Header name."), {
            maxItems: 64,
          }),
        }),
        forwardBody: obj("Whether to send the request body along.", {
          maxSize: int("Largest body to buffer and send, in bytes."),
        }),
      }),
    }),
    { maxItems: 16 },
  );
}

function httpMatch(): Schema {
  const nameValue = (d: string, valueMax: number) =>
    list(
      d,
      obj("A name and the value it must have.", {
        name: req(headerName()),
        value: req(str("Value to compare with.", { minLength: 1, maxLength: valueMax })),
        type: str("How to compare.", { enum: ["Exact", "RegularExpression"], default: "Exact" }),
      }),
      { maxItems: 16 },
    );
  return obj("Conditions a request must all meet.", {
    path: obj("Matches the request path.", {
      type: str("How to compare.", {
        enum: ["Exact", "PathPrefix", "RegularExpression"],
        default: "PathPrefix",
      }),
      value: str("Path to compare with.", { maxLength: 1024, default: "/" }),
    }, { default: { type: "PathPrefix", value: "/" } }),
    headers: nameValue("Request headers to match.", 4096),
    queryParams: nameValue("Query parameters to match.", 1024),
    method: str("Request method to match.", { enum: HTTP_METHODS }),
  });
}

const HTTP_PROXY: Schema = obj(
  "A reverse proxy: hostnames and rules that send HTTP traffic to backends.",
  {
    spec: req(obj("What to proxy.", {
      hostnames: list(
        "Extra hostnames to serve besides the generated one (at most 16).",
        dns("A hostname, optionally starting with *."),
        { maxItems: 16 },
      ),
      rules: req(list(
        "How requests are matched and where they go (1 to 16 rules).",
        obj("One routing rule.", {
          name: dns("Optional name, unique within the proxy."),
          matches: list("Request conditions; any one may match.", httpMatch(), {
            minItems: 1,
            maxItems: 64,
            default: [{ path: { type: "PathPrefix", value: "/" } }],
          }),
          filters: filters("Processing applied to matched requests."),
          backends: list(
            "Where matched requests go (at most one backend).",
            obj("The upstream: an endpoint URL, optionally reached through a Connector.", {
              endpoint: str(
                "URL of the upstream, e.g. http://127.0.0.1:8080; required unless instance is set.",
              ),
              connector: obj("Reach the endpoint through this Connector's tunnel.", {
                name: req(str("Name of a Connector in the same namespace.")),
              }),
              instance: obj("An EndpointSlice of a workload instead of endpoint and connector.", {
                name: req(str("Name of the EndpointSlice.")),
                port: req(port("Port on the workload.")),
              }),
              tls: obj("TLS settings towards the upstream.", {
                hostname: dns("Name to verify on the upstream's certificate (SNI)."),
              }),
              filters: filters("Processing applied only for this backend."),
            }),
            { minItems: 0, maxItems: 1 },
          ),
        }),
        { minItems: 1, maxItems: 16 },
      )),
    })),
    status: obj("What the controller made of it.", {
      hostnames: list(
        "Hostnames the proxy answers on, the generated one first.",
        str("A hostname."),
      ),
      canonicalHostname: str("The hostname generated for this proxy."),
      addresses: list(
        "Addresses traffic can be sent to.",
        obj("One address.", {
          type: str("Hostname, IPAddress or NamedAddress.", { default: "IPAddress" }),
          value: req(dns("The address.")),
        }),
        { maxItems: 16 },
      ),
      hostnameStatuses: list(
        "Per-hostname progress.",
        obj("One hostname's state.", {
          hostname: req(str("The hostname.")),
          conditions: conditions("Its conditions (e.g. certificate readiness)."),
        }),
      ),
      conditions: conditions("Accepted, Programmed, CertificatesReady and related."),
    }),
  },
);

const CONNECTOR: Schema = obj("An agent that opens tunnels from a private network into Datum.", {
  spec: req(obj("What the agent is.", {
    connectorClassName: req(str("ConnectorClass that handles it, e.g. datum-connect.", {
      minLength: 1,
    })),
    capabilities: list(
      "Features the agent offers.",
      obj("One feature.", {
        type: req(str("Name of the feature.", { minLength: 1, maxLength: 253 })),
        connectTCP: obj("Options of the TCP connect feature.", {
          disabled: bool("Turns it off."),
        }),
      }),
      { maxItems: 16 },
    ),
  })),
  status: obj("Where the agent can be reached and how it is doing.", {
    connectionDetails: obj("How peers reach the agent; written by the agent.", {
      type: req(str("Kind of details; publicKey is set exactly when it is PublicKey.", {
        enum: ["PublicKey"],
      })),
      publicKey: obj("The agent's key and network addresses.", {
        id: str("The agent's public key (its node id)."),
        homeRelay: req(str("URL of the relay the agent keeps a connection to.")),
        addresses: req(list(
          "Direct IP addresses and ports of the agent (at most 16).",
          obj("One address.", {
            address: req(str("An IP address.", { maxLength: 39 })),
            port: req(port("UDP port.")),
          }),
          { maxItems: 16 },
        )),
        discoveryMode: str("How peers look the key up.", { enum: ["DNS"], default: "DNS" }),
      }),
    }),
    leaseRef: obj("The Lease the agent renews to show it is alive.", {
      name: str("Name of the Lease, in the Connector's namespace.", { default: "" }),
    }),
    capabilities: list(
      "State of each feature.",
      obj("One feature's state.", {
        type: req(str("Name of the feature.", { minLength: 1, maxLength: 253 })),
        conditions: conditions("Its conditions."),
      }),
    ),
    conditions: conditions("Accepted, Ready and IrohDNSPublished."),
  }),
});

const CONNECTOR_ADVERTISEMENT: Schema = obj("Services a Connector makes reachable.", {
  spec: req(obj("What is advertised, and through which Connector.", {
    connectorRef: req(obj("The Connector that reaches these services.", {
      name: req(dns("Name of a Connector in the same namespace.")),
    })),
    layer4: list(
      "TCP/UDP services, grouped under names.",
      obj("A named group of services.", {
        name: req(str("Name of the group, unique in the list.")),
        services: req(list(
          "The services.",
          obj("One host and its ports.", {
            address: req(dns("Host name or IP address, as the Connector sees it.")),
            ports: req(list(
              "Its ports.",
              obj("One port.", {
                name: req(str("Name of the port, unique in the list.")),
                port: req(port("Port number.")),
                protocol: req(str("Transport protocol.", { default: "TCP" })),
              }),
              { minItems: 1, maxItems: 16 },
            )),
          }),
          { minItems: 1, maxItems: 16 },
        )),
      }),
      { maxItems: 16 },
    ),
  })),
  status: obj("What the controller made of it.", {
    conditions: conditions("Accepted (False ConnectorNotFound while its Connector is missing)."),
  }),
});

const CONNECTOR_CLASS: Schema = obj("A type of Connector and the controller that runs it.", {
  spec: req(obj("Which controller.", {
    controllerName: req(dns("Name of the controller.", {
      default: "networking.datumapis.com/datum-connect",
    })),
  })),
  status: obj("Nothing is reported yet."),
});

const TRAFFIC_PROTECTION_POLICY: Schema = obj(
  "A web application firewall attached to Gateways or HTTPRoutes.",
  {
    spec: req(obj("What to protect and how.", {
      targetRefs: req(list(
        "What the policy applies to.",
        obj("A Gateway or HTTPRoute.", {
          group: req(str("Must be gateway.networking.k8s.io.", { maxLength: 253 })),
          kind: req(str("Gateway or HTTPRoute.", { minLength: 1, maxLength: 63 })),
          name: req(dns("Name of the target.")),
          sectionName: dns("Only this listener or rule of the target."),
        }),
        { minItems: 1 },
      )),
      mode: str("Observe logs matches, Enforce blocks them, Disabled turns the policy off.", {
        enum: ["Observe", "Enforce", "Disabled"],
        default: "Observe",
      }),
      samplingPercentage: int("Share of requests inspected.", {
        minimum: 1,
        maximum: 100,
        default: 100,
      }),
      ruleSets: req(list(
        "Rule sets to evaluate; each type at most once.",
        obj("One rule set.", {
          type: req(str("Which rule set.", { enum: ["OWASPCoreRuleSet"] })),
          owaspCoreRuleSet: obj("Tuning of the OWASP Core Rule Set.", {
            paranoiaLevels: obj("How strict to be (1 lenient to 4 strict).", {
              blocking: int("Level whose matches block; not above detection.", {
                minimum: 1,
                maximum: 4,
                default: 1,
              }),
              detection: int("Level whose matches are logged.", {
                minimum: 1,
                maximum: 4,
                default: 1,
              }),
            }, { default: { blocking: 1, detection: 1 } }),
            scoreThresholds: obj("Anomaly scores at which a request or reply is blocked.", {
              inbound: int("Score for requests.", { minimum: 1, maximum: 10000, default: 5 }),
              outbound: int("Score for replies.", { minimum: 1, maximum: 10000, default: 4 }),
            }, { default: {} }),
            ruleExclusions: obj("Rules to skip.", {
              ids: list("Rule ids.", int("A rule id."), { maxItems: 100 }),
              idRanges: list(
                "Ranges of rule ids, as min-max.",
                str("A range.", { maxLength: 21 }),
                {
                  maxItems: 100,
                },
              ),
              tags: list("Rule tags.", str("A tag."), { maxItems: 100 }),
            }),
          }),
        }),
        {
          minItems: 1,
          maxItems: 16,
          default: [{ type: "OWASPCoreRuleSet", owaspCoreRuleSet: {} }],
        },
      )),
    })),
    status: obj("The policy's state at each target.", {
      ancestors: req(list(
        "One entry per Gateway (or route) the policy is attached through.",
        obj("The policy's state at one ancestor.", {
          ancestorRef: req(obj("The ancestor.", {
            group: str("API group.", { maxLength: 253, default: "gateway.networking.k8s.io" }),
            kind: str("Kind.", { minLength: 1, maxLength: 63, default: "Gateway" }),
            name: req(dns("Name.")),
            namespace: str("Namespace.", { minLength: 1, maxLength: 63 }),
            sectionName: dns("Listener or rule name."),
            port: port("Listener port."),
          })),
          controllerName: req(dns("Controller that wrote this entry.")),
          conditions: req(conditions("Accepted and Programmed.", { minItems: 1, maxItems: 8 })),
        }),
        { maxItems: 16 },
      )),
    }),
  },
);

const ORGANIZATION: Schema = obj("A tenant that owns projects and has members.", {
  spec: req(obj("The organization's settings.", {
    type: req(str("Personal (one per user) or Standard; cannot change later.", {
      enum: ["Personal", "Standard"],
    })),
  })),
  status: obj("Provisioning state.", {
    observedGeneration: int("The generation last reconciled.", { format: "int64" }),
    conditions: conditions("Ready and OnboardingComplete."),
  }),
});

const ORGANIZATION_MEMBERSHIP: Schema = obj("Makes a user a member of an organization.", {
  spec: obj("Who joins what, with which roles.", {
    organizationRef: req(obj("The organization.", { name: req(str("Its name.")) })),
    userRef: req(obj("The user.", { name: req(str("Its name (the user's id).")) })),
    roles: list(
      "Roles granted in the organization.",
      obj("A role.", {
        name: req(str("Name of the role.")),
        namespace: str("Namespace of the role."),
      }),
    ),
  }),
  status: obj("Membership state, with copies of the organization's and user's details.", {
    observedGeneration: int("The generation last reconciled.", { format: "int64" }),
    organization: obj("Details of the organization.", {
      displayName: str("Its display name."),
      type: str("Personal or Standard."),
    }),
    user: obj("Details of the user.", {
      email: str("Email address."),
      givenName: str("First name."),
      familyName: str("Last name."),
      avatarUrl: str("Picture URL."),
    }),
    appliedRoles: list(
      "How each granted role was applied.",
      obj("One role.", {
        name: req(str("Name of the role.")),
        namespace: str("Namespace of the role."),
        status: req(str("Outcome.", { enum: ["Applied", "Pending", "Failed"] })),
        message: str("Why it failed, if it did."),
        appliedAt: str("When it was applied.", { format: "date-time" }),
        policyBindingRef: obj("The policy binding made for it.", {
          name: req(str("Its name.")),
          namespace: str("Its namespace."),
        }),
      }),
    ),
    conditions: conditions("Ready."),
  }),
});

const PROJECT: Schema = obj("A workspace of an organization, with its own control plane.", {
  spec: req(obj("Who owns the project.", {
    ownerRef: req(obj("The owning organization.", {
      kind: req(str("Always Organization.", { enum: ["Organization"] })),
      name: req(str("Name of the organization.")),
    })),
  })),
  status: obj("Provisioning state.", {
    conditions: conditions("Ready once the control plane is up."),
  }),
});

const USER: Schema = obj("A person who can sign in.", {
  spec: obj("Profile.", {
    email: req(str("Email address.")),
    givenName: str("First name."),
    familyName: str("Last name."),
  }),
  status: obj("Account state.", {
    state: str("Whether the account is usable.", {
      enum: ["Active", "Inactive"],
      default: "Active",
    }),
    registrationApproval: str("Where sign-up approval stands.", {
      enum: ["Pending", "Approved", "Rejected"],
    }),
    lastLoginProvider: str("Identity provider of the last sign-in."),
    avatarUrl: str("Picture URL.", { format: "uri" }),
    conditions: conditions("Ready."),
  }),
});

const LEASE: Schema = obj("A lock with an expiry, renewed by its holder.", {
  spec: obj("Who holds it and until when.", {
    holderIdentity: str("Who holds the lease."),
    leaseDurationSeconds: int("Seconds the lease lasts after each renewal.", { format: "int32" }),
    acquireTime: str("When the current holder took it.", { format: "date-time" }),
    renewTime: str("When the holder last renewed it.", { format: "date-time" }),
    leaseTransitions: int("How many times the holder changed.", { format: "int32" }),
  }),
});

const NAMESPACE: Schema = obj("A scope for object names.", {
  spec: obj("Settings.", {
    finalizers: list("What must finish before the namespace goes.", str("A finalizer.")),
  }),
  status: obj("State.", {
    phase: str("Active or Terminating.", { enum: ["Active", "Terminating"] }),
  }),
});

const stringMap = (description: string): Schema => ({
  type: "object",
  additionalProperties: { type: "string" },
  description,
});

const CONFIG_MAP: Schema = obj("Configuration data as key/value pairs.", {
  data: stringMap("UTF-8 values by key."),
  binaryData: stringMap("Base64 binary values by key."),
  immutable: bool("When true, data can no longer change."),
});

const SECRET: Schema = obj("Sensitive data as key/value pairs.", {
  data: stringMap("Base64 values by key."),
  stringData: stringMap("Plain values by key, merged into data on write."),
  type: str("How the data is to be read, e.g. Opaque."),
  immutable: bool("When true, data can no longer change."),
});

const EVENT: Schema = obj("Something that happened to an object.", {
  involvedObject: req(obj("The object it happened to.", {
    apiVersion: str("Its API version."),
    kind: str("Its kind."),
    name: str("Its name."),
    namespace: str("Its namespace."),
    uid: str("Its uid."),
  })),
  type: str("Normal or Warning.", { enum: ["Normal", "Warning"] }),
  reason: str("A short, machine-readable reason."),
  message: str("What happened, for people."),
  count: int("How many times it happened.", { format: "int32" }),
  firstTimestamp: str("When it first happened.", { format: "date-time" }),
  lastTimestamp: str("When it last happened.", { format: "date-time" }),
  eventTime: str("When it happened (events.k8s.io style).", { format: "date-time" }),
  source: obj("Who reported it.", { component: str("The component."), host: str("The host.") }),
  reportingController: str("The controller that reported it."),
});

/** The schema of `metadata`, shared by every kind. */
export const OBJECT_META_SCHEMA: Schema = obj("Identity and bookkeeping common to all objects.", {
  name: str("Unique name within the namespace (or cluster-wide for cluster kinds)."),
  generateName: str("Prefix from which the server makes a unique name when name is empty."),
  namespace: str("The namespace the object lives in."),
  uid: str("Server-assigned id, never reused."),
  resourceVersion: str("Opaque version; send it back to update without losing changes."),
  generation: int("Bumped on every change of the desired state.", { format: "int64" }),
  creationTimestamp: str("When the object was created.", { format: "date-time" }),
  deletionTimestamp: str("When deletion was requested, while finalizers run.", {
    format: "date-time",
  }),
  labels: {
    type: "object",
    additionalProperties: { type: "string" },
    description: "Key/value pairs for selecting objects.",
  },
  annotations: {
    type: "object",
    additionalProperties: { type: "string" },
    description: "Key/value pairs for tools; not used for selection.",
  },
  finalizers: list("What must finish before the object is removed.", str("A finalizer.")),
  ownerReferences: list("Objects this one belongs to.", obj("An owner.")),
  managedFields: list("Which manager set which fields.", obj("A manager's fields.")),
});

/** Each served kind's schema without apiVersion, kind and metadata, keyed `group/plural`. */
export const KIND_SCHEMAS: Readonly<Record<string, Schema>> = {
  "iam.miloapis.com/users": USER,
  "resourcemanager.miloapis.com/organizations": ORGANIZATION,
  "resourcemanager.miloapis.com/organizationmemberships": ORGANIZATION_MEMBERSHIP,
  "resourcemanager.miloapis.com/projects": PROJECT,
  "networking.datumapis.com/connectors": CONNECTOR,
  "networking.datumapis.com/connectoradvertisements": CONNECTOR_ADVERTISEMENT,
  "networking.datumapis.com/connectorclasses": CONNECTOR_CLASS,
  "networking.datumapis.com/httpproxies": HTTP_PROXY,
  "networking.datumapis.com/trafficprotectionpolicies": TRAFFIC_PROTECTION_POLICY,
  "coordination.k8s.io/leases": LEASE,
  "/namespaces": NAMESPACE,
  "/configmaps": CONFIG_MAP,
  "/secrets": SECRET,
  "/events": EVENT,
};
