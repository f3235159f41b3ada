/**
 * The shapes of the tunnel resources datumctl reads and writes, and the
 * manifests it sends. Only the fields the tool touches are typed; everything else passes through.
 *
 * The API paths of the tunnel kinds (Connector, HTTPProxy, ConnectorAdvertisement,
 * TrafficProtectionPolicy), the manifests for each, the HTTPProxy rules a tunnel wants, and reading
 * an HTTPProxy's backend and hostnames all live here, so every tunnel command builds and reads them
 * the same way.
 */
import type { Target } from "./endpoint.ts";

/** A Kubernetes condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown" | string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** The object metadata the tool reads. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  creationTimestamp?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/** `status.connectionDetails` of a Connector. */
export interface ConnectionDetails {
  type: "PublicKey";
  publicKey: {
    id: string;
    discoveryMode: "DNS";
    /** Required by the schema; `NO_HOME_RELAY` (details.ts) when the agent has none. */
    homeRelay: string;
    addresses: { address: string; port: number }[];
  };
}

/** networking.datumapis.com/v1alpha1 Connector. */
export interface Connector {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { connectorClassName?: string; [k: string]: unknown };
  status?: {
    conditions?: Condition[];
    connectionDetails?: ConnectionDetails;
    leaseRef?: { name?: string };
    [k: string]: unknown;
  };
}

/** One backend of an HTTPProxy rule. */
export interface ProxyBackend {
  endpoint: string;
  connector?: { name: string };
  [k: string]: unknown;
}

/** One rule of an HTTPProxy. */
export interface ProxyRule {
  matches?: unknown[];
  filters?: unknown[];
  backends?: ProxyBackend[];
  [k: string]: unknown;
}

/** networking.datumapis.com/v1alpha HTTPProxy: the tunnel; its name is the tunnel id. */
export interface HTTPProxy {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { hostnames?: string[]; rules?: ProxyRule[]; [k: string]: unknown };
  status?: { hostnames?: string[]; conditions?: Condition[]; [k: string]: unknown };
}

/** networking.datumapis.com/v1alpha1 ConnectorAdvertisement: exists while the tunnel is enabled. */
export interface ConnectorAdvertisement {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    connectorRef?: { name: string };
    layer4?: unknown[];
    [k: string]: unknown;
  };
  status?: { conditions?: Condition[]; [k: string]: unknown };
}

/** coordination.k8s.io/v1 Lease. */
export interface Lease {
  metadata: ObjectMeta;
  spec?: { leaseDurationSeconds?: number; renewTime?: string; [k: string]: unknown };
}

/** The Kubernetes list envelope. */
export interface ObjectList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** Where each kind lives below a project control plane, in namespace `default`. */
export const TUNNEL_KINDS = {
  Connector: {
    apiVersion: "networking.datumapis.com/v1alpha1",
    path: "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors",
  },
  HTTPProxy: {
    apiVersion: "networking.datumapis.com/v1alpha",
    path: "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies",
  },
  ConnectorAdvertisement: {
    apiVersion: "networking.datumapis.com/v1alpha1",
    path: "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectoradvertisements",
  },
  TrafficProtectionPolicy: {
    apiVersion: "networking.datumapis.com/v1alpha",
    path: "/apis/networking.datumapis.com/v1alpha/namespaces/default/trafficprotectionpolicies",
  },
  Lease: {
    apiVersion: "coordination.k8s.io/v1",
    path: "/apis/coordination.k8s.io/v1/namespaces/default/leases",
  },
} as const;

/** A kind datumctl manages for tunnels. */
export type TunnelKind = keyof typeof TUNNEL_KINDS;

/** The annotation that holds a tunnel's label. */
export const LABEL_ANNOTATION = "app.kubernetes.io/name";

/** The ConnectorClass datum-connect used at the time of its CLI pull request. */
export const DEFAULT_CONNECTOR_CLASS = "datum-connect";

/** A new Connector for this device. */
export function connectorManifest(
  device: { name: string; os: string },
  connectorClassName = DEFAULT_CONNECTOR_CLASS,
): Connector {
  return {
    apiVersion: TUNNEL_KINDS.Connector.apiVersion,
    kind: "Connector",
    metadata: {
      name: "",
      generateName: "datum-connect-",
      annotations: { "datum.net/device-name": device.name, "datum.net/device-os": device.os },
    },
    spec: { connectorClassName },
  };
}

/** The rules datum-connect writes: an http→https redirect, then the backend through our connector. */
export function desiredProxyRules(endpoint: string, connectorName: string): ProxyRule[] {
  return [
    {
      matches: [{
        path: { type: "PathPrefix", value: "/" },
        headers: [{ name: "x-forwarded-proto", type: "Exact", value: "http" }],
      }],
      filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }],
    },
    {
      matches: [{ path: { type: "PathPrefix", value: "/" } }],
      backends: [{ endpoint, connector: { name: connectorName } }],
    },
  ];
}

/** A new HTTPProxy (the server picks the name). */
export function httpProxyManifest(
  label: string,
  endpoint: string,
  connectorName: string,
): HTTPProxy {
  return {
    apiVersion: TUNNEL_KINDS.HTTPProxy.apiVersion,
    kind: "HTTPProxy",
    metadata: { name: "", generateName: "tunnel-", annotations: { [LABEL_ANNOTATION]: label } },
    spec: { rules: desiredProxyRules(endpoint, connectorName) },
  };
}

/** The advertisement that enables tunnel `id` on `connectorName`. */
export function advertisementManifest(
  id: string,
  connectorName: string,
  target: Target,
): ConnectorAdvertisement {
  return {
    apiVersion: TUNNEL_KINDS.ConnectorAdvertisement.apiVersion,
    kind: "ConnectorAdvertisement",
    metadata: { name: id },
    spec: {
      connectorRef: { name: connectorName },
      layer4: [{
        name: "default",
        services: [{
          address: target.host,
          ports: [{ name: `tcp-${target.port}`, port: target.port, protocol: "TCP" }],
        }],
      }],
    },
  };
}

/** The optional OWASP policy named after tunnel `id`. */
export function trafficPolicyManifest(id: string): Record<string, unknown> {
  return {
    apiVersion: TUNNEL_KINDS.TrafficProtectionPolicy.apiVersion,
    kind: "TrafficProtectionPolicy",
    metadata: { name: id },
    spec: {
      targetRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: id }],
      mode: "Enforce",
      ruleSets: [{
        type: "OWASPCoreRuleSet",
        owaspCoreRuleSet: { paranoiaLevels: { blocking: 1, detection: 1 } },
      }],
    },
  };
}

/**
 * The tunnel's backend: the first rule that has backends (other datum-connect versions wrote only
 * the backend rule).
 */
export function proxyBackend(proxy: HTTPProxy): ProxyBackend | undefined {
  return proxy.spec?.rules?.find((r) => (r.backends?.length ?? 0) > 0)?.backends?.[0];
}

/** `status.hostnames`, else `spec.hostnames`. */
export function proxyHostnames(proxy: HTTPProxy): string[] {
  const fromStatus = proxy.status?.hostnames ?? [];
  return fromStatus.length > 0 ? fromStatus : proxy.spec?.hostnames ?? [];
}

/** The label annotation, else the name. */
export function proxyLabel(proxy: HTTPProxy): string {
  return proxy.metadata.annotations?.[LABEL_ANNOTATION] ?? proxy.metadata.name;
}
