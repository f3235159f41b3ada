/**
 * Starts the local Datum stack (`local/main.ts`) as a subprocess for end-to-end tests and
 * talks to its admin API.
 *
 * The handle gives the stack's URLs and admin helpers (auto-approval, fault switches, onboarding,
 * settings, a service-account key, the device polls, extra kinds); `tokensFor` runs a real device
 * flow with plain HTTP.
 */

const MAIN = new URL("../../local/main.ts", import.meta.url).pathname;

/** Tokens from a device flow. */
export interface TokenSet {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
}

/** A running local stack. */
export interface LocalStack {
  /** http://127.0.0.1:<port> (OpenID provider, oidc-provider package). */
  issuer: string;
  /** http://127.0.0.1:<port> (control-plane emulator, Datum URL paths). */
  api: string;
  /** Public client for the CLI (auth code + PKCE, device flow, refresh). */
  clientId: string;
  gateway: string | null;
  /** Which backend serves the control planes (`kube` = etcd and real API servers). */
  apiBackend: "emulator" | "kube";
  /** Path of the CA that signed the API's certificate when the stack serves HTTPS, else null. */
  ca: string | null;
  /** The gateway's stable iroh endpoint id (`--allow-peer`), null without a gateway. */
  gatewayEndpointId: string | null;
  /** Make browser logins and device codes complete as this user without interaction (undefined = off). */
  setAutoApprove(email: string | undefined): Promise<void>;
  /** Turn a fault switch on/off (see local/README.md or local/faults.ts). */
  setFault(name: string, value: unknown): Promise<void>;
  /** Get tokens for a user via a device flow done with plain HTTP (for tests that need a token). */
  tokensFor(email: string): Promise<TokenSet>;
  /** Set an organization's onboarding reason (`Ready`, `BillingAccountMissing`, ...; null = none). */
  setOnboarding(org: string, reason: string | null): Promise<void>;
  /** The seed service account's key file (`type: datum_service_account`). */
  serviceAccountKeyFile(): Promise<Record<string, string>>;
  /** Changes stack settings (`deviceCodeTtlSeconds`, `leaseDurationSeconds`, `delayMs`, `proxyDomain`). */
  setSettings(patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The recent device_code polls of the token endpoint: when each arrived and what it got. */
  devicePolls(): Promise<DevicePoll[]>;
  /** Serves one more kind (`{group, version, kind, plural?, namespaced?, planes?, ...}`). */
  registerKind(kind: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

/** One device_code poll as the stack answered it (`answer`: `tokens` or the OAuth error). */
export interface DevicePoll {
  /** Arrival time, ms since the epoch. */
  at: number;
  answer: string;
}

/** Options for {@link startStack}. */
export interface StackOptions {
  autoApprove?: string;
  accessTokenTtlSeconds?: number;
  /** leaseDurationSeconds of connector Leases (default 30). */
  leaseDurationSeconds?: number;
  /** Controller delay in ms (default 300). */
  controllerDelayMs?: number;
  /** Lifetime of device codes in seconds (default 600). */
  deviceCodeTtlSeconds?: number;
  /** The control-plane backend (default: `$DATUMCTL_TEST_APISERVER`, else the emulator). */
  apiBackend?: "emulator" | "kube";
  /** Serve the API over HTTPS with the stack's own CA. */
  tls?: boolean;
}

/** The backend the tests run against: `DATUMCTL_TEST_APISERVER` (`kube` or `emulator`). */
export function testApiBackend(): "emulator" | "kube" {
  const value = Deno.env.get("DATUMCTL_TEST_APISERVER");
  if (!value || value === "emulator") return "emulator";
  if (value === "kube") return "kube";
  throw new Error(
    `DATUMCTL_TEST_APISERVER must be kube or emulator here (both is for scripts/test.ts), not ${value}`,
  );
}

/** HTTP clients trusting a TLS stack's CA, by CA file. */
const caClients = new Map<string, Deno.HttpClient>();

async function admin(
  api: string,
  path: string,
  body?: unknown,
  ca?: string | null,
): Promise<unknown> {
  let client: Deno.HttpClient | undefined;
  if (ca) {
    client = caClients.get(ca);
    if (!client) {
      client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
      caClients.set(ca, client);
    }
  }
  const res = await fetch(`${api}/_local${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    client,
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`local stack admin ${path}: ${JSON.stringify(data)}`);
  return data;
}

/** Runs the device flow (RFC 8628) for `clientId` with plain HTTP; the provider must auto-approve. */
export async function deviceFlow(issuer: string, clientId: string): Promise<TokenSet> {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const start = await fetch(discovery.device_authorization_endpoint, {
    method: "POST",
    body: new URLSearchParams({
      client_id: clientId,
      scope: "openid profile email offline_access",
    }),
  });
  const grant = await start.json();
  if (!start.ok) throw new Error(`device authorization failed: ${JSON.stringify(grant)}`);
  const deadline = Date.now() + 30_000;
  let interval = Number(grant.interval ?? 1);
  while (Date.now() < deadline) {
    const res = await fetch(discovery.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({
        client_id: clientId,
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: grant.device_code,
      }),
    });
    const body = await res.json();
    if (res.ok) return body as TokenSet;
    if (body.error === "slow_down") interval += 5;
    else if (body.error !== "authorization_pending") {
      throw new Error(`device flow failed: ${JSON.stringify(body)}`);
    }
    await new Promise((r) => setTimeout(r, interval * 1000));
  }
  throw new Error("device flow timed out");
}

/** Starts `local/main.ts` and resolves once it printed its ready line. */
export async function startStack(opts: StackOptions = {}): Promise<LocalStack> {
  const args = ["run", "-A", "--quiet", MAIN];
  if (opts.autoApprove) args.push("--auto-approve", opts.autoApprove);
  if (opts.accessTokenTtlSeconds !== undefined) {
    args.push("--access-token-ttl", String(opts.accessTokenTtlSeconds));
  }
  if (opts.leaseDurationSeconds !== undefined) {
    args.push("--lease-duration", String(opts.leaseDurationSeconds));
  }
  if (opts.controllerDelayMs !== undefined) {
    args.push("--controller-delay-ms", String(opts.controllerDelayMs));
  }
  if (opts.deviceCodeTtlSeconds !== undefined) {
    args.push("--device-code-ttl", String(opts.deviceCodeTtlSeconds));
  }
  args.push("--apiserver", opts.apiBackend ?? testApiBackend());
  if (opts.tls) args.push("--tls");
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();

  // Keep draining stderr so the child never blocks on a full pipe; keep its tail for errors.
  let stderrTail = "";
  const decoder = new TextDecoder();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr) {
      stderrTail = (stderrTail + decoder.decode(chunk, { stream: true })).slice(-4000);
    }
  })();

  const reader = child.stdout.getReader();
  let buffered = "";
  let line: string | undefined;
  while (line === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const nl = buffered.indexOf("\n");
    if (nl >= 0) line = buffered.slice(0, nl);
  }
  // The stack prints nothing else on stdout; drain it anyway.
  const stdoutDone = (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch {
      // closed
    }
  })();
  if (line === undefined) {
    await child.status;
    await stderrDone;
    await stdoutDone;
    throw new Error(`the local stack exited before it was ready:\n${stderrTail}`);
  }
  const info = JSON.parse(line) as {
    issuer: string;
    api: string;
    gateway: string | null;
    gatewayEndpointId: string | null;
    clientId: string;
    apiBackend: "emulator" | "kube";
    ca: string | null;
  };

  let autoApprove = opts.autoApprove;
  let stopped: Promise<void> | undefined;
  const stack: LocalStack = {
    ...info,
    async setAutoApprove(email) {
      await admin(info.api, "/auto-approve", { email: email ?? null }, info.ca);
      autoApprove = email;
    },
    async setFault(name, value) {
      await admin(info.api, `/faults/${encodeURIComponent(name)}`, { value }, info.ca);
    },
    async tokensFor(email) {
      const previous = autoApprove;
      if (previous !== email) await stack.setAutoApprove(email);
      try {
        return await deviceFlow(info.issuer, info.clientId);
      } finally {
        if (previous !== email) await stack.setAutoApprove(previous);
      }
    },
    async setOnboarding(org, reason) {
      await admin(
        info.api,
        `/organizations/${encodeURIComponent(org)}/onboarding`,
        { reason },
        info.ca,
      );
    },
    async setSettings(patch) {
      return await admin(info.api, "/settings", patch, info.ca) as Record<string, unknown>;
    },
    async devicePolls() {
      return await admin(info.api, "/device-polls", undefined, info.ca) as DevicePoll[];
    },
    async registerKind(kind) {
      await admin(info.api, "/kinds", kind, info.ca);
    },
    async serviceAccountKeyFile() {
      return await admin(info.api, "/service-account-key", undefined, info.ca) as Record<
        string,
        string
      >;
    },
    stop() {
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch {
          // already exited
        }
        await child.status;
        await stdoutDone;
        await stderrDone;
      })();
      return stopped;
    },
  };
  return stack;
}
