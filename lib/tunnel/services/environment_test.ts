import assert from "node:assert/strict";
import { serviceEnvironment, SYSTEM_CONNECT_DIR } from "./environment.ts";

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
