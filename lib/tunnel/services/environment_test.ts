import assert from "node:assert/strict";
import { definitionEnvironment, serviceEnvironment, SYSTEM_CONNECT_DIR } from "./environment.ts";
import type { ServiceDefinition } from "./definition.ts";

Deno.test("the unit carries locations and tunnel settings, never credentials", () => {
  const vars: Record<string, string> = {
    XDG_CONFIG_HOME: "/h/.config",
    DATUM_CONNECT_REPO: "/h/repo",
    DATUMCTL_TUNNEL_RELAY: "disabled",
    DATUM_TOKEN: "secret",
    DATUM_CREDENTIALS: "/h/key.json",
    DATUMCTL_CONNECT_DIR: "/h/connect",
    XDG_DATA_HOME: "",
  };
  const env = (name: string) => vars[name];
  assert.deepEqual(serviceEnvironment("user", "/h", env), {
    HOME: "/h",
    XDG_CONFIG_HOME: "/h/.config",
    DATUM_CONNECT_REPO: "/h/repo",
    DATUMCTL_CONNECT_DIR: "/h/connect",
    DATUMCTL_TUNNEL_RELAY: "disabled",
  });
  assert.equal(serviceEnvironment("system", "/root", env).DATUMCTL_CONNECT_DIR, SYSTEM_CONNECT_DIR);
});

Deno.test("a definition's tunnel ignores environment credentials; system ones use /var/lib", () => {
  const definition: ServiceDefinition = {
    name: "web",
    label: "web",
    endpoint: "http://localhost:1",
    project: "infra",
    session: "s",
    api_host: "api.datum.net",
    scope: "user",
    created_at: "",
    created_by: "",
  };
  const vars: Record<string, string> = {
    DATUM_TOKEN: "t",
    DATUM_CREDENTIALS: "/k.json",
    DATUMCTL_CONNECT_DIR: "/mine",
    HOME: "/h",
  };
  const user = definitionEnvironment(definition, (n) => vars[n]);
  assert.equal(user("DATUM_TOKEN"), undefined);
  assert.equal(user("DATUM_CREDENTIALS"), undefined);
  assert.equal(user("DATUMCTL_CONNECT_DIR"), "/mine");
  assert.equal(user("HOME"), "/h");
  const system = definitionEnvironment({ ...definition, scope: "system" }, (n) => vars[n]);
  assert.equal(system("DATUMCTL_CONNECT_DIR"), SYSTEM_CONNECT_DIR);
});
