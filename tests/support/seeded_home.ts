/**
 * A HOME as two logins on a local stack leave it (session names with `host:port`, contexts, the
 * current one a project), plus a discovery cache, two named tunnel folders and `datumctl` on
 * PATH, for terminal tests that need no network.
 */
import { emptyConfig, serializeConfig } from "../../lib/store/config.ts";
import { cliCommand, isolatedEnv, makeHome } from "./cli.ts";

/** The active login's session name. */
export const ALICE = "alice@example.com@127.0.0.1:39785";
/** A second login's session name. */
export const BOB = "bob@example.com@127.0.0.1:39785";

function session(name: string) {
  const email = name.slice(0, name.lastIndexOf("@"));
  return {
    name,
    "user-key": `${email}@127.0.0.1:39786`,
    "user-email": email,
    endpoint: { server: "http://127.0.0.1:39785", "auth-hostname": "127.0.0.1:39786" },
  };
}

/** A HOME as two logins on a local stack leave it, plus a discovery cache and named tunnels. */
export async function seededHome(): Promise<{ home: string; env: Record<string, string> }> {
  const home = await makeHome();
  const config = emptyConfig();
  config.sessions = [session(ALICE), session(BOB)];
  config.contexts = [
    { name: `${ALICE}/acme-corp`, session: ALICE, "organization-id": "acme-corp" },
    {
      name: `${ALICE}/acme-corp/infra`,
      session: ALICE,
      "organization-id": "acme-corp",
      "project-id": "infra",
    },
    { name: `${BOB}/beta-org`, session: BOB, "organization-id": "beta-org" },
  ];
  config["current-context"] = `${ALICE}/acme-corp/infra`;
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
  await Deno.writeTextFile(`${home}/.datumctl/config`, await serializeConfig(config));
  const discovery = `${home}/.cache/datumctl/discovery/127.0.0.1_39785`;
  await Deno.mkdir(discovery, { recursive: true });
  const type = (plural: string, kind: string) => ({
    group: "networking.datumapis.com",
    version: "v1alpha",
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced: true,
    shortNames: [],
    verbs: ["get", "list"],
    categories: [],
    preferred: true,
  });
  await Deno.writeTextFile(
    `${discovery}/project.json`,
    JSON.stringify({
      fetchedAt: new Date().toISOString(),
      groupVersions: ["networking.datumapis.com/v1alpha"],
      resources: [type("httpproxies", "HTTPProxy"), type("connectors", "Connector")],
    }),
  );
  for (const name of ["web-app", "blog"]) {
    await Deno.mkdir(`${home}/connect/${name}`, { recursive: true });
  }
  // `datumctl` on PATH runs the sources, the way the installed binary would be found.
  const bin = `${home}/bin`;
  await Deno.mkdir(bin);
  const quoted = cliCommand().map((w) => `'${w}'`).join(" ");
  await Deno.writeTextFile(`${bin}/datumctl`, `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
  const env = isolatedEnv(home, {
    PATH: `${bin}:${Deno.env.get("PATH")}`,
    DATUMCTL_CONNECT_DIR: `${home}/connect`,
    PS1: "$ ",
  });
  return { home, env };
}
