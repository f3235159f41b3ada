import assert from "node:assert/strict";
import { launchdLabel, launchdPlistPath, renderLaunchdPlist } from "./launchd.ts";
import type { ServiceDefinition } from "./definition.ts";

const DEFINITION: ServiceDefinition = {
  name: "web",
  label: "web",
  endpoint: "http://localhost:3000",
  project: "infra",
  session: "s",
  api_host: "api.datum.net",
  scope: "user",
  created_at: "",
  created_by: "",
};

Deno.test("LaunchAgent and LaunchDaemon paths and labels", () => {
  const env = (name: string) => (name === "HOME" ? "/Users/me" : undefined);
  assert.equal(launchdLabel("user", "web"), "net.datum.datumctl-connect-user-web");
  assert.equal(
    launchdPlistPath("user", "web", env),
    "/Users/me/Library/LaunchAgents/net.datum.datumctl-connect-user-web.plist",
  );
  assert.equal(
    launchdPlistPath("system", "web", env),
    "/Library/LaunchDaemons/net.datum.datumctl-connect-system-web.plist",
  );
});

Deno.test("the plist restarts on failure only, runs tunnel run, escapes XML", () => {
  const plist = renderLaunchdPlist({
    definition: DEFINITION,
    command: { command: "/Applications/My <Tools>/datumctl", args: [] },
    environment: { HOME: "/Users/me", ODD: "a&b" },
  });
  const compact = plist.replace(/\s+/g, "");
  assert.ok(compact.includes("<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>"));
  assert.ok(compact.includes("<key>RunAtLoad</key><true/>"));
  assert.ok(compact.includes("<key>ThrottleInterval</key><integer>30</integer>"));
  assert.ok(
    compact.includes(
      "<array><string>/Applications/My&lt;Tools&gt;/datumctl</string><string>tunnel</string>" +
        "<string>run</string><string>--name</string><string>web</string></array>",
    ),
  );
  assert.ok(compact.includes("<key>ODD</key><string>a&amp;b</string>"));
  assert.ok(compact.includes("<string>/Users/me/Library/Logs/datumctl/web.log</string>"));
  assert.match(plist, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
});

Deno.test("the plist's elements are balanced", () => {
  const plist = renderLaunchdPlist({
    definition: { ...DEFINITION, scope: "system" },
    command: { command: "/usr/local/bin/datumctl", args: [] },
    environment: { HOME: "/var/root" },
  });
  // No XML parser ships with Deno: check that every opened element is closed, in order.
  const stack: string[] = [];
  for (const m of plist.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
  assert.match(plist, /<string>\/Library\/Logs\/datumctl\/web\.log<\/string>/);
});
