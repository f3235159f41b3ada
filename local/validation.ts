/**
 * The CRD limits the emulator enforces (422 Invalid), so clients meet the same walls as on
 * Datum: at most 16 connection addresses of at most 39 characters and a required URL `homeRelay`
 * on a Connector; at most 16 rules and at most one backend per rule on an HTTPProxy.
 */

import type { KubeObject, ObjectStore } from "./store.ts";

type Cause = { field: string; message: string };
type Json = Record<string, unknown>;

function connector(obj: KubeObject): Cause[] {
  const causes: Cause[] = [];
  const details = (obj.status as Json | undefined)?.connectionDetails as Json | undefined;
  const key = details?.publicKey as Json | undefined;
  if (!key) return causes;
  const addresses = key.addresses;
  if (addresses !== undefined && !Array.isArray(addresses)) {
    causes.push({
      field: "status.connectionDetails.publicKey.addresses",
      message: "Invalid value: must be an array",
    });
  } else if (Array.isArray(addresses)) {
    if (addresses.length > 16) {
      causes.push({
        field: "status.connectionDetails.publicKey.addresses",
        message: `Too many: ${addresses.length}: must have at most 16 items`,
      });
    }
    addresses.forEach((a, i) => {
      const address = (a as Json)?.address;
      if (typeof address !== "string" || address.length > 39) {
        causes.push({
          field: `status.connectionDetails.publicKey.addresses[${i}].address`,
          message: typeof address === "string"
            ? `Too long: may not be more than 39 bytes`
            : "Required value",
        });
      }
      const port = (a as Json)?.port;
      if (!Number.isInteger(port)) {
        causes.push({
          field: `status.connectionDetails.publicKey.addresses[${i}].port`,
          message: "Required value",
        });
      }
    });
  }
  // Both are required by the schema: a Connector without them is rejected, relay or not.
  for (const field of ["addresses", "homeRelay"]) {
    if (key[field] === undefined) {
      causes.push({
        field: `status.connectionDetails.publicKey.${field}`,
        message: "Required value",
      });
    }
  }
  if (key.homeRelay !== undefined && !URL.canParse(String(key.homeRelay))) {
    causes.push({
      field: "status.connectionDetails.publicKey.homeRelay",
      message: `Invalid value: "${String(key.homeRelay)}": must be a URL`,
    });
  }
  if (key.id !== undefined && typeof key.id !== "string") {
    causes.push({
      field: "status.connectionDetails.publicKey.id",
      message: "Invalid value: must be a string",
    });
  }
  return causes;
}

function httpProxy(obj: KubeObject): Cause[] {
  const causes: Cause[] = [];
  const rules = (obj.spec as Json | undefined)?.rules;
  if (!Array.isArray(rules)) {
    return [{ field: "spec.rules", message: "Required value" }];
  }
  if (rules.length > 16) {
    causes.push({
      field: "spec.rules",
      message: `Too many: ${rules.length}: must have at most 16 items`,
    });
  }
  rules.forEach((rule, i) => {
    const backends = (rule as Json)?.backends;
    if (Array.isArray(backends) && backends.length > 1) {
      causes.push({
        field: `spec.rules[${i}].backends`,
        message: `Too many: ${backends.length}: must have at most 1 items`,
      });
    }
  });
  return causes;
}

/** Installs the validators on a store. */
export function registerValidators(store: ObjectStore): void {
  store.validators.set("networking.datumapis.com/connectors", connector);
  store.validators.set("networking.datumapis.com/httpproxies", httpProxy);
}
