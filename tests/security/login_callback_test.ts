/**
 * The browser login's loopback callback is reachable by any page or local process. A request
 * without this login's `state` (wrong or missing) is answered 400 and ignored: the login keeps
 * waiting and finishes when the real answer arrives, or times out.
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import { loginFlags, readCredentialsFile, scriptedBrowser } from "../support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

Deno.test("stray requests to the login callback cannot cancel a browser login", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    await t.step(
      "wrong and missing state are refused, then the real sign-in succeeds",
      async () => {
        const home = await makeHome();
        const log = `${home}/browser.log`;
        const res = await runCli(["login", ...loginFlags(stack)], {
          home,
          env: {
            ...FILE,
            BROWSER: scriptedBrowser(),
            SCRIPTED_BROWSER_LOG: log,
            // A forged answer, one without state, and a forged error answer.
            SCRIPTED_BROWSER_STRAY: "state=forged&code=x|code=x|error=access_denied&state=",
            DATUMCTL_LOGIN_TIMEOUT: "60",
          },
        });
        assert.equal(res.code, 0, res.stderr);
        const trace = await Deno.readTextFile(log);
        assert.match(trace, /^stray state=forged&code=x -> 400$/m);
        assert.match(trace, /^stray code=x -> 400$/m);
        assert.match(trace, /^stray error=access_denied&state= -> 400$/m);
        assert.match(trace, /GET \/datumctl\/auth\/callback -> 200/);
        const stored = JSON.stringify(await readCredentialsFile(home));
        assert.match(stored, /alice@example\.com/);
      },
    );

    await t.step("a login that only ever gets a forged answer times out (75)", async () => {
      const home = await makeHome();
      const res = await runCli(["login", ...loginFlags(stack)], {
        home,
        env: {
          ...FILE,
          BROWSER: scriptedBrowser(),
          SCRIPTED_BROWSER_STATE: "forged",
          DATUMCTL_LOGIN_TIMEOUT: "3",
        },
      });
      assert.equal(res.code, 75, res.stderr);
      assert.match(res.stderr, /not finished within 3 s/);
      assert.deepEqual(await readCredentialsFile(home), {});
    });
  } finally {
    await stack.stop();
  }
});
