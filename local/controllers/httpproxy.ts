/**
 * The HTTPProxy controller: a generated, stable `status.hostnames[0]` (`<word>-<word>.<proxy
 * domain>`) plus `spec.hostnames`; `Accepted` after ~40 % of the delay (the others Pending),
 * then `Programmed`, `CertificatesReady` and `ConnectorMetadataProgrammed` after the full delay,
 * all with `observedGeneration`.
 */

import type { StoreEvent } from "../store.ts";
import {
  conditionsOf,
  type ControllerContext,
  NET,
  refKey,
  setCondition,
  specOf,
  statusOf,
} from "./common.ts";

const ADJECTIVES = [
  "ground",
  "amber",
  "quiet",
  "brisk",
  "lucky",
  "misty",
  "bold",
  "calm",
  "swift",
  "sunny",
  "hidden",
  "silver",
  "rapid",
  "gentle",
  "polar",
  "cosmic",
  "velvet",
  "crisp",
  "noble",
  "rustic",
];
const NOUNS = [
  "pearl",
  "river",
  "falcon",
  "meadow",
  "harbor",
  "cedar",
  "comet",
  "lantern",
  "pebble",
  "summit",
  "willow",
  "canyon",
  "ember",
  "glacier",
  "orchid",
  "beacon",
  "thicket",
  "quartz",
  "tundra",
  "reef",
];

/** Reconciles HTTPProxies. */
export class HttpProxyController {
  #generations = new Map<string, number>();

  constructor(private ctx: ControllerContext) {}

  get #proxies() {
    return this.ctx.type(NET, "httpproxies");
  }

  /** Reacts to an HTTPProxy event: a new generation starts a new round. */
  onEvent(e: StoreEvent): void {
    const obj = e.object;
    const key = refKey({
      plane: e.plane,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
    });
    if (e.type === "DELETED") {
      this.#generations.delete(key);
      return;
    }
    if (this.#generations.get(key) === obj.metadata.generation) return;
    this.#generations.set(key, obj.metadata.generation);
    this.#reconcile(e.plane, obj.metadata.namespace!, obj.metadata.name, obj.metadata.generation);
  }

  #hostnameInUse(host: string): boolean {
    const { cluster } = this.ctx;
    for (const plane of cluster.planesWith(this.#proxies)) {
      for (const p of cluster.list(plane, this.#proxies)) {
        const hostnames = (p.status as Record<string, unknown> | undefined)?.hostnames;
        if ((hostnames as string[] | undefined)?.includes(host)) return true;
      }
    }
    return false;
  }

  #newHostname(): string {
    const domain = this.ctx.settings.proxyDomain;
    for (let i = 0; i < 1000; i++) {
      const pick = (words: string[]) => words[Math.floor(Math.random() * words.length)];
      const suffix = i < 50 ? "" : `-${i}`;
      const host = `${pick(ADJECTIVES)}-${pick(NOUNS)}${suffix}.${domain}`;
      if (!this.#hostnameInUse(host)) return host;
    }
    return `${crypto.randomUUID().slice(0, 8)}.${domain}`;
  }

  #reconcile(plane: string, namespace: string, name: string, generation: number) {
    const { cluster, settings } = this.ctx;
    this.ctx.schedule("proxy-accept", plane, namespace, name, this.ctx.earlyDelay, async () => {
      await cluster.writeStatus(plane, this.#proxies, namespace, name, (obj) => {
        if (obj.metadata.generation !== generation) return;
        const st = statusOf(obj);
        const generated = ((st.hostnames as string[] | undefined) ?? []).find((h) =>
          h.endsWith(`.${settings.proxyDomain}`)
        ) ?? this.#newHostname();
        const custom = ((specOf(obj).hostnames as string[] | undefined) ?? []).filter((h) =>
          h !== generated
        );
        st.hostnames = [generated, ...custom];
        if (settings.gatewayUrl) {
          st.addresses = [{ type: "datumctl.localhost/gateway-url", value: settings.gatewayUrl }];
        }
        let conditions = conditionsOf(obj);
        conditions = setCondition(conditions, {
          type: "Accepted",
          status: "True",
          reason: "Accepted",
          message: "The HTTPProxy has been accepted",
          observedGeneration: generation,
        });
        const pendingIfNotTrue = (type: string, reason: string, message: string) => {
          const c = conditions.find((x) =>
            x.type === type
          );
          if (c?.status === "True") return;
          conditions = setCondition(conditions, {
            type,
            status: "False",
            reason,
            message,
            observedGeneration: generation,
          });
        };
        pendingIfNotTrue("Programmed", "Pending", "Waiting for the gateway to be programmed");
        pendingIfNotTrue(
          "CertificatesReady",
          "CertificatesPending",
          "Certificates are being issued",
        );
        pendingIfNotTrue(
          "ConnectorMetadataProgrammed",
          "Pending",
          "Waiting for connector metadata to be applied",
        );
        st.conditions = conditions;
      });
    });
    this.ctx.schedule("proxy-program", plane, namespace, name, settings.delayMs, async () => {
      await cluster.writeStatus(plane, this.#proxies, namespace, name, (obj) => {
        if (obj.metadata.generation !== generation) return;
        const st = statusOf(obj);
        let conditions = conditionsOf(obj);
        for (
          const c of [
            {
              type: "Programmed",
              reason: "Programmed",
              message: "The HTTPProxy has been programmed",
            },
            {
              type: "CertificatesReady",
              reason: "AllCertificatesReady",
              message: "All certificates are ready",
            },
            {
              type: "ConnectorMetadataProgrammed",
              reason: "ConnectorMetadataApplied",
              message: "Connector metadata has been applied",
            },
          ]
        ) {
          conditions = setCondition(conditions, {
            ...c,
            status: "True",
            observedGeneration: generation,
          });
        }
        st.conditions = conditions;
      });
    });
  }
}
