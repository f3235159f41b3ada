/**
 * End-to-end tests of how a device login ends when it does not simply succeed: the person
 * denies the request, the code expires unapproved, or the server asks the CLI to slow down.
 * The local stack's `device-denied` and `device-slow-down` faults and its `deviceCodeTtlSeconds`
 * setting produce each answer; its device-poll log shows what the token endpoint answered.
 */
import assert from "node:assert/strict";
import { makeHome, runCli } from "./support/cli.ts";
import { type DevicePoll, type LocalStack, startStack } from "./support/stack.ts";
import { loginFlags, readCredentialsFile } from "./support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const NOT_AUTHENTICATED = 77;

/** The device polls the stack answered since `since` (ms since the epoch). */
async function pollsSince(stack: LocalStack, since: number): Promise<DevicePoll[]> {
  return (await stack.devicePolls()).filter((p) => p.at >= since);
}

/** Fails unless `home` holds no login: no stored credentials and no session in the config. */
async function assertNothingStored(home: string) {
  assert.deepEqual(await readCredentialsFile(home), {});
  let config = "";
  try {
    config = await Deno.readTextFile(`${home}/.datumctl/config`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  assert.doesNotMatch(config, /example\.com/);
}

Deno.test("device login outcomes: denied, expired, slow_down", async (t) => {
  const stack = await startStack();
  try {
    await t.step(
      "a denied request ends with the denied message, exit 77, nothing stored",
      async () => {
        const home = await makeHome();
        await stack.setFault("device-denied", 1);
        const since = Date.now();
        const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
          home,
          env: FILE,
        });
        assert.equal(res.code, NOT_AUTHENTICATED, res.stderr);
        assert.match(res.stderr, /^error: the sign-in request was denied$/m);
        assert.match(res.stderr, /approve the request/);
        assert.equal(res.stdout, "");
        assert.deepEqual((await pollsSince(stack, since)).map((p) => p.answer), ["access_denied"]);
        await assertNothingStored(home);
      },
    );

    await t.step(
      "an expired code ends with the expired message, exit 77, nothing stored",
      async () => {
        const home = await makeHome();
        await stack.setSettings({ deviceCodeTtlSeconds: 2 });
        const since = Date.now();
        let res;
        try {
          res = await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env: FILE });
        } finally {
          await stack.setSettings({ deviceCodeTtlSeconds: 600 });
        }
        assert.equal(res.code, NOT_AUTHENTICATED, res.stderr);
        assert.match(res.stderr, /^error: the sign-in code expired before it was approved$/m);
        assert.match(res.stderr, /login --no-browser' again/);
        assert.equal(res.stdout, "");
        // The token endpoint, not only the CLI's own clock, said so.
        const answers = (await pollsSince(stack, since)).map((p) => p.answer);
        assert.equal(answers.at(-1), "expired_token", answers.join(", "));
        assert.ok(answers.slice(0, -1).every((a) => a === "authorization_pending"), answers.join());
        await assertNothingStored(home);
      },
    );

    await t.step("slow_down makes the CLI poll 5 s slower and still log in", async () => {
      const home = await makeHome();
      await stack.setAutoApprove("alice@example.com");
      await stack.setFault("device-slow-down", 1);
      const since = Date.now();
      const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
        home,
        env: FILE,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Authenticated as Alice Example \(alice@example\.com\)/);
      const polls = await pollsSince(stack, since);
      assert.deepEqual(polls.map((p) => p.answer), ["slow_down", "tokens"]);
      // RFC 8628 §3.5: after slow_down the interval grows by 5 s (here from 1 s to 6 s).
      assert.ok(
        polls[1].at - polls[0].at >= 5000,
        `next poll after ${polls[1].at - polls[0].at} ms`,
      );
      const file = await readCredentialsFile(home);
      assert.ok(Object.keys(file["datumctl-auth"] ?? {}).some((k) => k.startsWith("alice@")));
    });
  } finally {
    await stack.stop();
  }
});
