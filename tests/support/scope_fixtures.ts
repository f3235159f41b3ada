/**
 * A config with two sessions used by the scope unit tests: alice in acme-corp (infra, web-app)
 * and personal (sandbox), bob in acme-corp (infra); alice's acme-corp/infra is current.
 */
import { type DatumctlConfig, emptyConfig } from "../../lib/store/config.ts";
import { applyDiscovery } from "../../lib/scope/discovery.ts";

export const ALICE = "alice@example.com@api.datum.net";
export const BOB = "bob@example.com@api.datum.net";

/** A fresh copy of the sample config. */
export function sampleConfig(): DatumctlConfig {
  const config = emptyConfig();
  for (const [name, email] of [[ALICE, "alice@example.com"], [BOB, "bob@example.com"]]) {
    config.sessions.push({
      name,
      "user-key": `${email}@auth.datum.net`,
      "user-email": email,
      endpoint: { server: "https://api.datum.net", "auth-hostname": "auth.datum.net" },
    });
  }
  applyDiscovery(config, ALICE, [
    {
      id: "acme-corp",
      displayName: "ACME Corp",
      projects: [
        { id: "infra", displayName: "Infra" },
        { id: "web-app", displayName: "Web App" },
      ],
    },
    {
      id: "personal",
      displayName: "Personal",
      projects: [{ id: "sandbox", displayName: "Sandbox" }],
    },
  ]);
  applyDiscovery(config, BOB, [
    {
      id: "acme-corp",
      displayName: "ACME Corp",
      projects: [{ id: "infra", displayName: "Infra" }],
    },
  ]);
  config["current-context"] = `${ALICE}/acme-corp/infra`;
  config["active-session"] = ALICE;
  return config;
}
