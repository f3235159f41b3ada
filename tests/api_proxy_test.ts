/**
 * `api proxy` end to end: the first stdout line is the URL, a plain HTTP client through
 * it sees the same objects as `datumctl get`, inbound credentials are replaced, a non-local Host
 * is refused, a watch stream is relayed unbuffered, each request is logged, and Ctrl-C stops it.
 */
import assert from "node:assert/strict";
import {
  assertSucceeded,
  cliCommand,
  isolatedEnv,
  makeHome,
  readUntil,
  runCli,
} from "./support/cli.ts";
import { loginFlags } from "./support/auth.ts";
import { type LocalStack, startStack } from "./support/stack.ts";

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const CONNECTORS = "/apis/networking.datumapis.com/v1alpha1/namespaces/default/connectors";

const MANIFEST = `apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: laptop
spec:
  connectorClassName: datum-connect
---
apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: desktop
spec:
  connectorClassName: datum-connect
`;

/** Sends one raw HTTP/1.1 request (fetch will not let a caller choose the Host header). */
async function rawRequest(port: number, host: string, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    return await new Response(conn.readable).text();
  } catch (err) {
    conn.close();
    throw err;
  }
}

Deno.test("api proxy against the local stack", async (t) => {
  const stack: LocalStack = await startStack({ autoApprove: "alice@example.com" });
  const home = await makeHome();
  const cli = (args: string[], stdin?: string) => runCli(args, { home, stdin, env: STORE });
  let child: Deno.ChildProcess | undefined;
  try {
    assertSucceeded(
      await cli([
        "login",
        ...loginFlags(stack),
        "--no-browser",
      ]),
      "login",
    );
    assertSucceeded(await cli(["apply", "-f", "-", "--project", "infra"], MANIFEST), "apply");

    child = new Deno.Command(cliCommand()[0], {
      args: [...cliCommand().slice(1), "api", "proxy", "--project", "infra"],
      env: isolatedEnv(home, STORE),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const out = { text: "" };
    const err = { text: "" };
    await readUntil(stdout, out, /\n/);
    const url = out.text.trim();

    await t.step("the first stdout line is the URL; the banner goes to stderr", async () => {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      await readUntil(stderr, err, /Listening: /);
      assert.match(err.text, /^Session: +alice@example\.com@/m);
      assert.match(
        err.text,
        /^Upstream: +http:\/\/127\.0\.0\.1:\d+\/apis\/resourcemanager\.miloapis\.com\/v1alpha1\/projects\/infra\/control-plane$/m,
      );
      assert.match(err.text, /^Scope: +project infra$/m);
    });

    await t.step("a plain HTTP client sees the same objects as datumctl get", async () => {
      // The caller's own Authorization is dropped and replaced by the login's bearer.
      const res = await fetch(`${url}${CONNECTORS}`, {
        headers: { authorization: "Bearer bogus" },
      });
      assert.equal(res.status, 200);
      const viaProxy = (await res.json()).items.map((i: { metadata: { name: string } }) =>
        i.metadata.name
      )
        .sort();
      const viaCli = await cli(["get", "connectors", "--project", "infra", "-o", "json"]);
      assertSucceeded(viaCli, "get -o json");
      const names = JSON.parse(viaCli.stdout).items.map((i: { metadata: { name: string } }) =>
        i.metadata.name
      )
        .sort();
      assert.deepEqual(viaProxy, ["desktop", "laptop"]);
      assert.deepEqual(viaProxy, names);
      await readUntil(
        stderr,
        err,
        /^\d\d:\d\d:\d\d GET \/apis\/networking\.datumapis\.com\/v1alpha1\/namespaces\/default\/connectors 200 \S+ \S+$/m,
      );
    });

    await t.step("a request for another Host is refused", async () => {
      const port = Number(new URL(url).port);
      const answer = await rawRequest(port, "evil.example.com", CONNECTORS);
      assert.match(answer, /^HTTP\/1\.1 403/);
      assert.match(answer, /x-datum-proxy-error: true/i);
      assert.match(answer, /"kind":"Status"/);
      assert.doesNotMatch(answer, /laptop/);
      const local = await rawRequest(port, `localhost:${port}`, CONNECTORS);
      assert.match(local, /^HTTP\/1\.1 200/);
    });

    await t.step("a watch stream is relayed as it happens", async () => {
      const list = await (await fetch(`${url}${CONNECTORS}`)).json();
      const controller = new AbortController();
      const res = await fetch(
        `${url}${CONNECTORS}?watch=1&resourceVersion=${list.metadata.resourceVersion}`,
        { signal: controller.signal },
      );
      assert.equal(res.status, 200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const seen = { text: "" };
      try {
        // Changed after the watch started: its event can only arrive if nothing is buffered,
        // since the stream itself stays open.
        assertSucceeded(
          await cli(["delete", "connector", "desktop", "--project", "infra"]),
          "delete",
        );
        await readUntil(reader, seen, /"type":"DELETED".*"name":"desktop"/);
      } finally {
        controller.abort();
        await reader.cancel().catch(() => {});
      }
    });

    await t.step("Ctrl-C stops the proxy cleanly", async () => {
      child!.kill("SIGINT");
      const status = await child!.status;
      assert.equal(status.code, 0);
      child = undefined;
      await stdout.cancel().catch(() => {});
      await stderr.cancel().catch(() => {});
      await assert.rejects(fetch(`${url}${CONNECTORS}`));
    });
  } finally {
    if (child) {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
    await stack.stop();
  }
});
