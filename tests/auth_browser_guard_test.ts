import assert from "node:assert/strict";
import * as oauth from "oauth4webapi";
import { cliCommand, isolatedEnv, makeHome, runCli } from "./support/cli.ts";
import { startStack } from "./support/stack.ts";
import { loginFlags, readCredentialsFile, scriptedBrowser } from "./support/auth.ts";
import { discover, identityFromTokenResponse, publicClient } from "../lib/auth/oidc.ts";
import { CliError } from "../lib/core/errors.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function tokenResponse(body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

Deno.test("browser and ID-token guards against the real provider", async (t) => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    await t.step("an ID token with a forged payload fails the JWKS signature check", async () => {
      const tokens = await stack.tokensFor("alice@example.com");
      const as = await discover(stack.issuer);
      const client = publicClient(stack.clientId);

      const genuine = tokenResponse({ ...tokens, token_type: "Bearer" });
      const processed = await oauth.processDeviceCodeResponse(as, client, genuine);
      const identity = await identityFromTokenResponse(as, genuine, processed);
      assert.equal(identity.email, "alice@example.com");

      const [header, payload, signature] = tokens.id_token.split(".");
      const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
      const forged = `${header}.${
        b64url(JSON.stringify({ ...claims, email: "mallory@example.com" }))
      }.${signature}`;
      const tampered = tokenResponse({ ...tokens, token_type: "Bearer", id_token: forged });
      const result = await oauth.processDeviceCodeResponse(as, client, tampered);
      await assert.rejects(
        () => identityFromTokenResponse(as, tampered, result),
        (err: unknown) =>
          err instanceof CliError && err.code === "ID_TOKEN_INVALID" && err.exitCode === 77,
      );
    });

    await t.step("a callback with the wrong state is ignored and nothing is stored", async () => {
      const home = await makeHome();
      const res = await runCli(["login", ...loginFlags(stack)], {
        home,
        env: {
          ...FILE,
          BROWSER: scriptedBrowser(),
          SCRIPTED_BROWSER_STATE: "forged",
          DATUMCTL_LOGIN_TIMEOUT: "1",
        },
      });
      // The forged answer got a 400; the login kept waiting for the real one until its timeout.
      assert.equal(res.code, 75, res.stderr);
      assert.match(res.stderr, /not finished within 1 s/);
      assert.deepEqual(await readCredentialsFile(home), {});
      await assert.rejects(() => Deno.stat(`${home}/.datumctl/config`), Deno.errors.NotFound);
    });

    await t.step("an unfinished browser login times out with a clear message", async () => {
      const res = await runCli(["login", ...loginFlags(stack)], {
        home: await makeHome(),
        env: { ...FILE, BROWSER: "true", DATUMCTL_LOGIN_TIMEOUT: "1" },
      });
      assert.equal(res.code, 75, res.stderr);
      assert.match(res.stderr, /error: the browser sign-in was not finished within 1 s/);
      assert.match(res.stderr, /--no-browser/);
    });

    await t.step("Ctrl-C while waiting for the browser exits 130 with Aborted.", async () => {
      const home = await makeHome();
      const [cmd, ...args] = cliCommand();
      const child = new Deno.Command(cmd, {
        args: [...args, "login", ...loginFlags(stack)],
        env: isolatedEnv(home, { ...FILE, BROWSER: "true" }),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let stderr = "";
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      while (!stderr.includes("Waiting for the browser")) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value);
      }
      child.kill("SIGINT");
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        stderr += decoder.decode(value);
      }
      const status = await child.status;
      await child.stdout.cancel();
      assert.equal(status.code, 130, stderr);
      assert.match(stderr, /error: Aborted\.$/m);
    });
  } finally {
    await stack.stop();
  }
});
