/**
 * Terminals only show text: a string from a server, a token or a file never reaches a person's
 * terminal with a control character in it (no cursor moves, line clears, window titles, 8-bit CSI
 * or bidirectional reordering). The sanitiser shows them as visible escapes; `-o json|yaml` keep
 * the exact data.
 *
 * End to end: a project display name and an HTTPProxy's annotations and hostnames holding escape
 * sequences on the local stack (seen by another member through ctx, describe and get -o wide), a
 * Status message carrying them, and a tiny OpenID issuer whose device-flow URL, error_description
 * and ID-token name and email carry them. Plus unit tests of the sanitiser and of display-width
 * table alignment (CJK and emoji).
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { parse as parseYaml } from "yaml";
import stringWidth from "string-width";
import { sanitizeForTerminal } from "../../lib/ui/terminal-text.ts";
import { renderTable } from "../../lib/ui/table.ts";
import { CliError } from "../../lib/core/errors.ts";
import { formatError } from "../../lib/ui/error-output.ts";
import { describeObject } from "../../lib/ui/printers.ts";
import { memoryIO } from "../../lib/core/io.ts";
import { pickerRow, renderTunnelList, TunnelEventRenderer } from "../../lib/ui/tunnel.ts";
import { formatLogLine, type PsRow, renderPsTable } from "../../lib/ui/tunnel-records.ts";
import type { TunnelSummary } from "../../lib/tunnel/tunnel-api.ts";
import { ApiClient } from "../../lib/api/client.ts";
import { organizationControlPlaneUrl, projectControlPlaneUrl } from "../../lib/api/urls.ts";
import { type CliResult, makeHome, runCli } from "../support/cli.ts";
import { type LocalStack, startStack } from "../support/stack.ts";
import { loginFlags, tokenAuth } from "../support/auth.ts";

/** OSC set-title, cursor up, erase line, an 8-bit CSI, then a right-to-left override. */
const ATTACK = "Evil\x1b]0;pwned\x07\x1b[1A\x1b[2K\u009b31m\u202egnp.exe";
/** How ATTACK looks once sanitised. */
const ATTACK_SHOWN = "Evil\\x1b]0;pwned\\x07\\x1b[1A\\x1b[2K\\x9b31m\\u202egnp.exe";

/** Characters no terminal output may carry (newline and tab are layout, ours). */
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function assertTerminalSafe(text: string, what: string): void {
  const found = [...text.matchAll(UNSAFE)].map((m) =>
    `U+${m[0].codePointAt(0)!.toString(16).padStart(4, "0")}`
  );
  assert.deepEqual(found, [], `${what} wrote raw control characters:\n${JSON.stringify(text)}`);
}

function assertRunSafe(res: CliResult, what: string): void {
  assertTerminalSafe(res.stdout, `${what} (stdout)`);
  assertTerminalSafe(res.stderr, `${what} (stderr)`);
}

function details(res: CliResult): string {
  return `exit ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`;
}

// ---------------------------------------------------------------------------------------------
// The sanitiser

Deno.test("sanitiser: C0, DEL, C1 and bidirectional controls become visible escapes", () => {
  assert.equal(sanitizeForTerminal(ATTACK), ATTACK_SHOWN);
  assert.equal(sanitizeForTerminal("a\rb\0c\x7fd"), "a\\x0db\\x00c\\x7fd");
  assert.equal(sanitizeForTerminal("\u0085\u009d"), "\\x85\\x9d");
  assert.equal(
    sanitizeForTerminal("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"),
    "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c",
  );
  // A single-line field shows newlines and tabs too; a multi-line one keeps them (and only them).
  assert.equal(sanitizeForTerminal("a\nb\tc"), "a\\x0ab\\x09c");
  assert.equal(sanitizeForTerminal("a\nb\tc\r\x1b", { multiline: true }), "a\nb\tc\\x0d\\x1b");
});

Deno.test("sanitiser: printable text of every script is left exactly as it is", () => {
  for (
    const text of [
      "plain ascii ~!@#$%^&*()",
      "日本語のプロジェクト",
      "🚀 launch 👩‍👩‍👧",
      "é ñ ü Ω",
      "עברית",
    ]
  ) {
    assert.equal(sanitizeForTerminal(text), text);
  }
});

Deno.test("sanitiser: no code point of the BMP or beyond survives if it is unsafe, and it is idempotent", () => {
  let all = "";
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    all += String.fromCodePoint(cp);
  }
  for (const multiline of [false, true]) {
    const once = sanitizeForTerminal(all, { multiline });
    assertTerminalSafe(once, `sanitised text (multiline ${multiline})`);
    if (!multiline) assert.ok(!/[\n\t]/.test(once), "a single line kept a newline or tab");
    assert.equal(sanitizeForTerminal(once, { multiline }), once);
  }
});

Deno.test("error rendering: the human form is sanitised, --error-format json keeps the exact message", () => {
  const err = new CliError("API_ERROR", `the server said: ${ATTACK}`, { hint: `try ${ATTACK}` });
  const human = formatError(err, "human");
  assertTerminalSafe(human, "formatError(human)");
  assert.equal(human, `error: the server said: ${ATTACK_SHOWN}\ntry ${ATTACK_SHOWN}\n`);
  const json = JSON.parse(formatError(err, "json"));
  assert.equal(json.error.message, `the server said: ${ATTACK}`);
  assert.equal(json.error.hint, `try ${ATTACK}`);
});

Deno.test("tables and describe sanitise every cell, key and value", async () => {
  const table = await renderTable(["NAME", `H${ATTACK}`], [[ATTACK, "x"], ["b", ATTACK]]);
  assertTerminalSafe(table, "renderTable");
  assert.ok(table.includes(ATTACK_SHOWN));
  const described = describeObject({
    apiVersion: "v1",
    kind: "Thing",
    metadata: { name: "n", annotations: { [`k${ATTACK}`]: `line one\nline two ${ATTACK}` } },
    spec: { [`field\x1b`]: ATTACK },
  });
  assertTerminalSafe(described, "describeObject");
  assert.match(described, /^Annotations: {2}k.*=line one\nline two .*$/m, "multi-line value kept");
  assert.ok(described.includes(ATTACK_SHOWN));
});

Deno.test("tunnel output for people: list, picker rows, event lines, ps table and log lines", async () => {
  const tunnel: TunnelSummary = {
    id: "tunnel-x",
    label: ATTACK,
    endpoint: "http://localhost:8080",
    hostnames: [`host${ATTACK}.example`],
    enabled: true,
    accepted: true,
    programmed: true,
    state: "ready",
  };
  assertTerminalSafe(renderTunnelList([tunnel]), "tunnel list");
  assert.ok(renderTunnelList([tunnel]).includes(`hostname: host${ATTACK_SHOWN}.example`));
  assertTerminalSafe(pickerRow(tunnel, true), "tunnel picker row");

  // On a TTY the renderer writes its own line-clearing escapes; nothing else may get through.
  const io = memoryIO({}, true);
  const renderer = new TunnelEventRenderer(io, { json: false });
  renderer.render({ type: "warning", code: "heartbeat", message: `server says ${ATTACK}` });
  renderer.render({ type: "warning", code: "terminal_failure", message: `a\n${ATTACK}` });
  renderer.render({
    type: "ready",
    id: "tunnel-x",
    label: ATTACK,
    endpoint: "http://localhost:8080",
    url: `https://${ATTACK}`,
    hostnames: [ATTACK],
    endpoint_id: "ab",
    elapsed_secs: 1,
  });
  const own = "\r\x1b[2K";
  assertTerminalSafe(io.stderr.replaceAll(own, ""), "tunnel events (stderr)");
  assertTerminalSafe(io.stdout.replaceAll(own, ""), "tunnel events (stdout)");
  assert.ok(io.stderr.includes(`warning: server says ${ATTACK_SHOWN}`));

  // A JSON line keeps the exact text (JSON.stringify escapes C0; the data is unchanged).
  const json = memoryIO();
  new TunnelEventRenderer(json, { json: true }).render({
    type: "warning",
    code: "heartbeat",
    message: ATTACK,
  });
  assert.equal(JSON.parse(json.stdout).message, ATTACK);

  const row: PsRow = {
    name: "web",
    project: "infra",
    endpoint: "http://localhost:8080",
    hostname: `日本${ATTACK}`,
    url: null,
    tunnel_id: null,
    endpoint_id: null,
    state: "ready",
    path: "direct",
    mode: "daemon",
    pid: 42,
    started_at: null,
    uptime_secs: 5,
  };
  const ps = await renderPsTable([row, { ...row, name: "api", hostname: "plain.example" }]);
  assertTerminalSafe(ps, "tunnel ps");
  const states = ps.trimEnd().split("\n").map((l) =>
    columnOf(l, l.startsWith("NAME") ? "STATE" : "ready")
  );
  assert.equal(new Set(states).size, 1, `tunnel ps columns not aligned:\n${ps}`);

  // A request path comes from anyone on the internet.
  const logLine = JSON.stringify({
    schema: "datumctl.tunnel.events/v1",
    time: "2026-01-01T00:00:00.000Z",
    type: "request",
    method: "GET",
    path: `/${ATTACK}`,
    status: 200,
    duration_ms: 3,
  });
  assertTerminalSafe(formatLogLine(logLine), "tunnel logs line");
  assert.ok(formatLogLine(logLine).includes(`GET /${ATTACK_SHOWN} -> 200`));
  assertTerminalSafe(formatLogLine(`not json ${ATTACK}`), "tunnel logs raw line");
});

// ---------------------------------------------------------------------------------------------
// Display width

/** The display column where `needle` starts on `line`. */
function columnOf(line: string, needle: string): number {
  const at = line.indexOf(needle);
  assert.ok(at >= 0, `"${needle}" not on line ${JSON.stringify(line)}`);
  return stringWidth(line.slice(0, at));
}

Deno.test("tables align CJK and emoji by display width, not by code points", async () => {
  const text = await renderTable(["NAME", "OWNER", "AGE"], [
    ["日本語プロジェクト", "alice", "1d"],
    ["🚀 rocket 👩‍👩‍👧", "bob", "2d"],
    ["plain", "carol", "3d"],
  ]);
  const lines = text.trimEnd().split("\n");
  const owners = ["OWNER", "alice", "bob", "carol"].map((w, i) => columnOf(lines[i], w));
  const ages = ["AGE", "1d", "2d", "3d"].map((w, i) => columnOf(lines[i], w));
  assert.deepEqual(new Set(owners).size, 1, `OWNER column not aligned:\n${text}`);
  assert.deepEqual(new Set(ages).size, 1, `AGE column not aligned:\n${text}`);
  // The widest name is 18 columns (9 CJK characters), then the three-space gap.
  assert.equal(owners[0], 18 + 3);
  // ASCII-only tables are laid out exactly as before.
  assert.equal(await renderTable(["A", "B"], [["xx", "y"]]), "A    B\nxx   y\n");
});

// ---------------------------------------------------------------------------------------------
// End to end against the local stack

const STORE = { DATUMCTL_CREDENTIALS_STORE: "file" };
const PROJECTS = "/apis/resourcemanager.miloapis.com/v1alpha1/projects";
const PROXIES = "/apis/networking.datumapis.com/v1alpha/namespaces/default/httpproxies";
const CJK_NAME = "日本語🚀プロジェクト";
const RLO_NOTE = "\u202etxt.exe";
const EVIL_HOST = `evil\x1b[2K\u202e.example.com`;

async function createProject(stack: LocalStack, name: string, displayName: string) {
  const auth = await tokenAuth(stack, "alice@example.com");
  const org = new ApiClient({ auth, baseUrl: organizationControlPlaneUrl(stack.api, "acme-corp") });
  await org.create(PROJECTS, {
    apiVersion: "resourcemanager.miloapis.com/v1alpha1",
    kind: "Project",
    metadata: { name, annotations: { "kubernetes.io/display-name": displayName } },
    spec: { ownerRef: { kind: "Organization", name: "acme-corp" } },
  });
}

Deno.test("ctx, describe, get -o wide and errors show server strings safely; -o json|yaml stay exact", async (t) => {
  const stack = await startStack();
  try {
    // Alice, a member of acme-corp, names things; Bob, another member, looks at them.
    await createProject(stack, "evil", ATTACK);
    await createProject(stack, "cjk", CJK_NAME);
    const alice = await tokenAuth(stack, "alice@example.com");
    const webApp = new ApiClient({
      auth: alice,
      baseUrl: projectControlPlaneUrl(stack.api, "web-app"),
    });
    await webApp.create(PROXIES, {
      apiVersion: "networking.datumapis.com/v1alpha",
      kind: "HTTPProxy",
      metadata: {
        name: "note",
        annotations: { "example.com/note": RLO_NOTE, "example.com/attack": ATTACK },
      },
      spec: {
        hostnames: [EVIL_HOST],
        rules: [{
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          backends: [{ endpoint: "http://127.0.0.1:8080" }],
        }],
      },
    });

    const home = await makeHome();
    await stack.setAutoApprove("bob@example.com");
    const cli = (args: string[]) => runCli(args, { home, env: STORE });
    const login = await cli(["login", ...loginFlags(stack), "--no-browser"]);
    assert.equal(login.code, 0, details(login));
    assertRunSafe(login, "login");

    await t.step("ctx shows the display name escaped and keeps the columns aligned", async () => {
      const res = await cli(["ctx"]);
      assert.equal(res.code, 0, details(res));
      assertRunSafe(res, "ctx");
      assert.ok(res.stdout.includes(`${ATTACK_SHOWN} (evil)`), res.stdout);
      // Where the TYPE column starts on each line, in display columns.
      const typeColumn = res.stdout.trimEnd().split("\n").map((line) => {
        const type = [...line.matchAll(/(?<=\s)(TYPE|project|org)(?=\s|$)/g)].at(-1);
        assert.ok(type, `no TYPE cell on ${JSON.stringify(line)}`);
        return stringWidth(line.slice(0, type.index));
      });
      assert.equal(new Set(typeColumn).size, 1, `TYPE column not aligned:\n${res.stdout}`);
      assert.ok(res.stdout.includes(`${CJK_NAME} (cjk)`));
    });

    await t.step("ctx -o json and -o yaml keep the exact display name", async () => {
      const json = await cli(["ctx", "-o", "json"]);
      assert.equal(json.code, 0, details(json));
      const views = JSON.parse(json.stdout) as { project?: { id: string; displayName: string } }[];
      assert.equal(views.find((v) => v.project?.id === "evil")?.project?.displayName, ATTACK);
      const yaml = await cli(["ctx", "-o", "yaml"]);
      const parsed = parseYaml(yaml.stdout) as typeof views;
      assert.equal(parsed.find((v) => v.project?.id === "evil")?.project?.displayName, ATTACK);
    });

    await t.step("ctx use prints the switch message escaped", async () => {
      const res = await cli(["ctx", "use", "acme-corp/evil"]);
      assert.equal(res.code, 0, details(res));
      assertRunSafe(res, "ctx use");
      assert.ok(res.stdout.includes(ATTACK_SHOWN), res.stdout);
      await cli(["ctx", "use", "acme-corp/web-app"]);
    });

    await t.step("describe escapes annotations (bidi override included)", async () => {
      const res = await cli(["describe", "httpproxies", "note"]);
      assert.equal(res.code, 0, details(res));
      assertRunSafe(res, "describe");
      assert.match(res.stdout, /example\.com\/note=\\u202etxt\.exe/);
      assert.ok(res.stdout.includes(ATTACK_SHOWN));
    });

    await t.step("get -o wide escapes the hostname the server reports", async () => {
      // The controller copies spec.hostnames into status.hostnames; wait for it.
      let res: CliResult | undefined;
      for (let i = 0; i < 50; i++) {
        res = await cli(["get", "httpproxies", "note", "-o", "wide"]);
        if (res.stdout.includes("evil\\x1b")) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(res!.code, 0, details(res!));
      assertRunSafe(res!, "get -o wide");
      assert.ok(res!.stdout.includes("evil\\x1b[2K\\u202e.example.com"), res!.stdout);
    });

    await t.step("get -o json|yaml keep annotations and hostnames byte for byte", async () => {
      const json = await cli(["get", "httpproxies", "note", "-o", "json"]);
      assert.equal(json.code, 0, details(json));
      const object = JSON.parse(json.stdout);
      assert.equal(object.metadata.annotations["example.com/note"], RLO_NOTE);
      assert.equal(object.metadata.annotations["example.com/attack"], ATTACK);
      assert.deepEqual(object.spec.hostnames, [EVIL_HOST]);
      const yaml = await cli(["get", "httpproxies", "note", "-o", "yaml"]);
      const parsed = parseYaml(yaml.stdout);
      assert.equal(parsed.metadata.annotations["example.com/attack"], ATTACK);
    });

    await t.step(
      "a Status message from the server is escaped in the error, exact in JSON",
      async () => {
        const selector = `bad\x1b[2Kkey\u202e=1`;
        const res = await cli(["get", "httpproxies", "-l", selector]);
        assert.notEqual(res.code, 0, details(res));
        assertRunSafe(res, "get with a bad selector");
        assert.match(res.stderr, /^error: .*bad\\x1b\[2Kkey\\u202e/m);
        const json = await runCli(
          ["get", "httpproxies", "-l", selector, "--error-format", "json"],
          {
            home,
            env: STORE,
          },
        );
        const body = JSON.parse(json.stderr.trim().split("\n").at(-1)!);
        assert.ok(body.error.message.includes(`bad\x1b[2Kkey\u202e`), json.stderr);
      },
    );
  } finally {
    await stack.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Login against a tiny issuer that sends escape sequences

interface FakeIssuer {
  url: string;
  stop(): Promise<void>;
}

/**
 * An OpenID issuer with discovery, JWKS, a device authorization endpoint whose verification URL
 * holds an escape sequence, and a token endpoint that either refuses with `errorDescription` or
 * issues a signed ID token with `claims`.
 */
async function startFakeIssuer(
  answer: { errorDescription: string } | { claims: Record<string, string> },
): Promise<FakeIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  let issuer = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const json = (body: unknown, status = 200) => Response.json(body, { status });
    if (path === "/.well-known/openid-configuration") {
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        device_authorization_endpoint: `${issuer}/device`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (path === "/jwks") return json({ keys: [jwk] });
    if (path === "/device") {
      return json({
        device_code: "dc",
        user_code: "ABCD-EFGH",
        verification_uri: `${issuer}/activate\x1b]0;owned\x07\u202e`,
        expires_in: 60,
        interval: 1,
      });
    }
    if (path === "/token") {
      const form = new URLSearchParams(await req.text());
      if ("errorDescription" in answer) {
        return json({ error: "invalid_grant", error_description: answer.errorDescription }, 400);
      }
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({ ...answer.claims })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(issuer)
        .setAudience(form.get("client_id") ?? "")
        .setSubject("sub-1")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
      return json({
        access_token: "fake-access-token",
        token_type: "Bearer",
        expires_in: 600,
        refresh_token: "fake-refresh-token",
        id_token: idToken,
        scope: "openid profile email offline_access",
      });
    }
    return json({ error: "not_found" }, 404);
  });
  issuer = `http://127.0.0.1:${server.addr.port}`;
  return { url: issuer, stop: () => server.shutdown() };
}

function fakeLoginArgs(stack: LocalStack, issuer: FakeIssuer): string[] {
  return [
    "login",
    "--endpoint",
    stack.api,
    "--auth-endpoint",
    issuer.url,
    "--client-id",
    "terminal-test",
    "--no-browser",
  ];
}

Deno.test("login shows the issuer's URL, error_description and ID-token name and email escaped", async (t) => {
  const stack = await startStack();
  try {
    await t.step("a refused device login: URL and error_description", async () => {
      const issuer = await startFakeIssuer({ errorDescription: `denied ${ATTACK}` });
      try {
        const res = await runCli(fakeLoginArgs(stack, issuer), {
          home: await makeHome(),
          env: STORE,
        });
        assert.notEqual(res.code, 0, details(res));
        assertRunSafe(res, "login (refused)");
        assert.ok(res.stderr.includes("/activate\\x1b]0;owned\\x07\\u202e"), res.stderr);
        assert.match(res.stderr, /^error: .*denied Evil\\x1b\]0;pwned\\x07/m);
      } finally {
        await issuer.stop();
      }
    });

    await t.step("a signed ID token whose name and email carry escapes", async () => {
      const issuer = await startFakeIssuer({
        claims: { name: ATTACK, email: "mallory\u202e@example.com" },
      });
      const home = await makeHome();
      try {
        const res = await runCli(fakeLoginArgs(stack, issuer), { home, env: STORE });
        assertRunSafe(res, "login (ID token)");
        assert.match(
          res.stdout,
          /Authenticated as Evil\\x1b\]0;pwned\\x07.* \(mallory\\u202e@example\.com\)/,
          details(res),
        );
      } finally {
        await issuer.stop();
      }
      // What the login stored is shown the same way afterwards (offline: the fake issuer is gone,
      // so the server check could not renew this login).
      const whoami = await runCli(["whoami", "--offline"], { home, env: STORE });
      assert.equal(whoami.code, 0, details(whoami));
      assertRunSafe(whoami, "whoami");
      assert.ok(whoami.stdout.includes(ATTACK_SHOWN), whoami.stdout);
      const list = await runCli(["auth", "list"], { home, env: STORE });
      assert.equal(list.code, 0, details(list));
      assertRunSafe(list, "auth list");
      assert.ok(list.stdout.includes("mallory\\u202e@example.com"), list.stdout);
      const landing = await runCli([], { home, env: STORE });
      assertRunSafe(landing, "landing page");
      const json = await runCli(["whoami", "--offline", "-o", "json"], { home, env: STORE });
      assert.equal(JSON.parse(json.stdout).user.name, ATTACK);
    });
  } finally {
    await stack.stop();
  }
});
