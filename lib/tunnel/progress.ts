/**
 * The six-step setup checklist of `tunnel listen` and the freshness rule behind it.
 *
 * A condition is Ready when it is `True` with `observedGeneration >= generation`. The six steps are
 * read from an HTTPProxy and its Connector; `IrohDNSPublished` False with `DeferredToOwner` is a
 * terminal failure, since waiting cannot help. Successive snapshots become the transitions the user
 * sees (a step became ready, a step has been pending for 30 s).
 */
import type { Condition, Connector, HTTPProxy } from "./resources.ts";
import { proxyHostnames } from "./resources.ts";

/** Where a step stands. */
export type StepStatus = "ready" | "pending" | "unknown";

/** The machine name of each step, in checklist order. */
export type StepId =
  | "tunnel_accepted"
  | "certificates_ready"
  | "connector_ready"
  | "iroh_dns_published"
  | "route_programmed"
  | "connector_metadata_programmed";

interface StepDefinition {
  id: StepId;
  label: string;
  kind: "HTTPProxy" | "Connector";
  condition: string;
  /**
   * A missing condition counts as ready once this step is ready (the operator removes it in
   * extension-server mode, so it would never appear).
   */
  absentIsReadyAfter?: StepId;
}

/** The checklist, in order. */
export const STEPS: readonly StepDefinition[] = [
  { id: "tunnel_accepted", label: "tunnel accepted", kind: "HTTPProxy", condition: "Accepted" },
  {
    id: "certificates_ready",
    label: "TLS certificate issued",
    kind: "HTTPProxy",
    condition: "CertificatesReady",
  },
  { id: "connector_ready", label: "connector ready", kind: "Connector", condition: "Ready" },
  {
    id: "iroh_dns_published",
    label: "iroh DNS published",
    kind: "Connector",
    condition: "IrohDNSPublished",
  },
  { id: "route_programmed", label: "route programmed", kind: "HTTPProxy", condition: "Programmed" },
  {
    id: "connector_metadata_programmed",
    label: "envoy metadata propagated",
    kind: "HTTPProxy",
    condition: "ConnectorMetadataProgrammed",
    absentIsReadyAfter: "route_programmed",
  },
];

/**
 * Whether a condition proves the current spec: `True` and observed at the current generation or
 * later (a missing `observedGeneration` or `generation` counts as 0). A stale True is pending.
 */
export function conditionState(
  conditions: Condition[] | undefined,
  type: string,
  generation: number | undefined,
): StepStatus {
  const c = conditions?.find((x) => x.type === type);
  if (!c) return "unknown";
  if (c.status === "True" && (c.observedGeneration ?? 0) >= (generation ?? 0)) return "ready";
  return "pending";
}

/** One step as of one poll. */
export interface StepSnapshot {
  id: StepId;
  label: string;
  status: StepStatus;
  /** `Kind/name`, when the resource is known. */
  resource?: string;
  reason?: string;
  message?: string;
}

/** Everything one poll learned. */
export interface ProgressSnapshot {
  steps: StepSnapshot[];
  hostnames: string[];
  /** Every step ready and a hostname assigned. */
  done: boolean;
}

/** The checklist as of `proxy` and its Connector (`undefined` while unknown). */
export function progressSnapshot(
  proxy: HTTPProxy,
  connector: Connector | undefined,
): ProgressSnapshot {
  const steps: StepSnapshot[] = [];
  for (const def of STEPS) {
    const resource = def.kind === "HTTPProxy" ? proxy : connector;
    if (!resource) {
      steps.push({ id: def.id, label: def.label, status: "unknown" });
      continue;
    }
    const conditions = resource.status?.conditions;
    let status = conditionState(conditions, def.condition, resource.metadata.generation);
    if (
      status === "unknown" && def.absentIsReadyAfter &&
      steps.find((s) => s.id === def.absentIsReadyAfter)?.status === "ready"
    ) {
      status = "ready";
    }
    const c = conditions?.find((x) => x.type === def.condition);
    steps.push({
      id: def.id,
      label: def.label,
      status,
      resource: `${def.kind}/${resource.metadata.name}`,
      reason: c?.reason || undefined,
      message: c?.message || undefined,
    });
  }
  const hostnames = proxyHostnames(proxy);
  return {
    steps,
    hostnames,
    done: steps.every((s) => s.status === "ready") && hostnames.length > 0,
  };
}

/** A failure no amount of waiting fixes. */
export interface TerminalFailure {
  step: StepId;
  label: string;
  resource?: string;
  reason: string;
  message: string;
  /** The Connector that owns the iroh DNS record, parsed from the message when present. */
  owner?: string;
}

/** `IrohDNSPublished` False with reason `DeferredToOwner` on the Connector. */
export function terminalFailure(connector: Connector | undefined): TerminalFailure | undefined {
  const c = connector?.status?.conditions?.find((x) => x.type === "IrohDNSPublished");
  if (!c || c.status !== "False" || c.reason !== "DeferredToOwner") return undefined;
  const message = c.message ?? "";
  const owner = /owned by Connector\s+(\S+)/.exec(message)?.[1];
  return {
    step: "iroh_dns_published",
    label: "iroh DNS published",
    resource: connector ? `Connector/${connector.metadata.name}` : undefined,
    reason: c.reason,
    message,
    owner,
  };
}

/** A change worth telling the user about. */
export type ProgressTransition =
  | { kind: "ready"; step: StepSnapshot; elapsedMs: number }
  | { kind: "status"; step: StepSnapshot; elapsedMs: number }
  | { kind: "stalled"; step: StepSnapshot; pendingMs: number };

/** How long a step may stay pending before the user is told why (once per step). */
export const STALL_WARNING_MS = 30_000;

/**
 * Feeds on snapshots and reports transitions: each step turning ready (with the time since the
 * tracker started), any other status change, and once per step a stall warning after 30 s.
 */
export class ProgressTracker {
  #last = new Map<StepId, StepStatus>();
  #readyAt = new Map<StepId, number>();
  #warned = new Set<StepId>();
  #startedAt: number;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  /** The transitions between the previous snapshot and `snapshot`, taken at time `now` (ms). */
  observe(snapshot: ProgressSnapshot, now: number): ProgressTransition[] {
    const out: ProgressTransition[] = [];
    for (const step of snapshot.steps) {
      const previous = this.#last.get(step.id);
      this.#last.set(step.id, step.status);
      const elapsedMs = now - this.#startedAt;
      if (step.status === "ready") {
        if (previous !== "ready") {
          this.#readyAt.set(step.id, now);
          out.push({ kind: "ready", step, elapsedMs });
        }
        continue;
      }
      if (previous !== step.status) out.push({ kind: "status", step, elapsedMs });
      if (elapsedMs >= STALL_WARNING_MS && !this.#warned.has(step.id)) {
        this.#warned.add(step.id);
        out.push({ kind: "stalled", step, pendingMs: elapsedMs });
      }
    }
    return out;
  }
}
