/**
 * The local OpenID provider: a real `oidc-provider` instance on loopback with the CLI's public
 * client, device flow, rotating refresh tokens (a spent one coming back revokes the whole
 * login), token revocation (RFC 7009, announced in discovery; revoking a refresh token ends its
 * login), service-account JWT-bearer login, an
 * auto-approve switch, the "revoked refresh tokens" fault and the device-flow outcomes (denied
 * codes, a short code lifetime, `slow_down` bursts) with a log of the device polls.
 *
 * Starting it returns a handle the emulator uses to check bearer tokens in-process.
 */

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";
import { type Faults, UPSTREAM_RESET_MESSAGE } from "./faults.ts";
import { findSeedAccount, type SeedAccount, SERVICE_ACCOUNT } from "./seed.ts";

/** The public client id the CLI uses against the local provider. */
export const LOCAL_CLIENT_ID = "340117799870791629";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
const DEFAULT_SCOPE = "openid profile email offline_access";
const SUPPORTED_SCOPES = ["openid", "profile", "email", "offline_access"];

/** How many device polls {@link IdentityProvider.devicePolls} keeps. */
export const DEVICE_POLL_LOG_SIZE = 200;

/** Zitadel's endpoint paths, so hard-coded paths in clients work here too. */
const ROUTES = {
  authorization: "/oauth/v2/authorize",
  token: "/oauth/v2/token",
  device_authorization: "/oauth/v2/device_authorization",
  code_verification: "/ui/v2/login/device",
  userinfo: "/oidc/v1/userinfo",
  jwks: "/oauth/v2/keys",
  revocation: "/oauth/v2/revoke",
  end_session: "/oidc/v1/end_session",
  introspection: "/oauth/v2/introspect",
};

/** Options for {@link startIdentityProvider}. */
export interface IdentityProviderOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Lifetime of access and ID tokens. */
  accessTokenTtlSeconds: number;
  /** `interval` announced in device authorization responses. */
  devicePollIntervalSeconds: number;
  /** Lifetime of device codes (`expires_in`); changeable later with `setDeviceCodeTtl`. */
  deviceCodeTtlSeconds: number;
  /** Email that browser logins and device codes complete as, without interaction. */
  autoApprove?: string;
  faults: Faults;
}

/** What a valid access token stands for. */
export interface TokenIdentity {
  account: SeedAccount;
  scope: string;
  clientId: string;
  expiresAt: number;
}

/** One device_code poll of the token endpoint, as the provider answered it. */
export interface DevicePoll {
  /** When the request arrived (ms since the epoch). */
  at: number;
  /** `tokens`, or the OAuth error answered (`authorization_pending`, `slow_down`, ...). */
  answer: string;
}

/** A running provider. */
export interface IdentityProvider {
  issuer: string;
  clientId: string;
  /** The email logins currently complete as, if any. */
  readonly autoApprove: string | undefined;
  /** Turns auto-approve on (an email of a seed account) or off (undefined). */
  setAutoApprove(email: string | undefined): void;
  /** Lifetime of device codes issued from now on. */
  readonly deviceCodeTtlSeconds: number;
  /** Sets the lifetime of device codes issued from now on (seconds, at least 1). */
  setDeviceCodeTtl(seconds: number): void;
  /** The most recent device_code polls (oldest first, at most {@link DEVICE_POLL_LOG_SIZE}). */
  devicePolls(): DevicePoll[];
  /** Looks an access token up; undefined when unknown, expired or revoked. */
  verifyAccessToken(token: string): Promise<TokenIdentity | undefined>;
  /** The seed service account's key file (`type: datum_service_account`). */
  serviceAccountKeyFile(apiEndpoint: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

// oidc-provider announces dev-only notices (runtime version, dev keys, memory adapter) on the
// console; in the local stack they are noise around the banner.
function silenceProviderNotices() {
  for (const method of ["warn", "info"] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].startsWith("oidc-provider ")) return;
      original.apply(console, args);
    };
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  return new TextDecoder().decode(concat(chunks));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Rewrites `prompt` so the CLI always gets a refresh token and an account chooser maps to login. */
function normalizePrompt(query: URLSearchParams): boolean {
  const prompt = query.get("prompt");
  if (prompt === null) return false;
  const values = new Set(prompt.split(" ").filter(Boolean));
  if (values.delete("select_account")) values.add("login");
  if ((query.get("scope") ?? "").split(" ").includes("offline_access")) values.add("consent");
  const next = [...values].join(" ");
  if (next === prompt) return false;
  query.set("prompt", next);
  return true;
}

/** Starts the provider on 127.0.0.1 and resolves once it answers. */
export async function startIdentityProvider(
  opts: IdentityProviderOptions,
): Promise<IdentityProvider> {
  silenceProviderNotices();
  const { default: Provider } = await import("oidc-provider");

  // Requests are wired once the provider exists; nobody knows the port before that.
  const server = createServer();
  const port = await listen(server, opts.port);
  const issuer = `http://127.0.0.1:${port}`;

  const signingKey = await makeSigningJwk();
  let autoApprove = opts.autoApprove ? requireAccount(opts.autoApprove).email : undefined;
  let serviceAccountKeys: Promise<CryptoKeyPair> | undefined;
  const serviceAccountKeyPair = () => {
    serviceAccountKeys ??= jose.generateKeyPair("RS256", { extractable: true }) as Promise<
      CryptoKeyPair
    >;
    return serviceAccountKeys;
  };

  const ttl = opts.accessTokenTtlSeconds;
  let deviceCodeTtl = checkDeviceCodeTtl(opts.deviceCodeTtlSeconds);
  const polls: DevicePoll[] = [];
  const recordPoll = (at: number, answer: string) => {
    polls.push({ at, answer });
    if (polls.length > DEVICE_POLL_LOG_SIZE) polls.shift();
  };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: LOCAL_CLIENT_ID,
      client_name: "datumctl (local)",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token", DEVICE_CODE],
      response_types: ["code"],
      // Any port is accepted on these loopback hosts (RFC 8252 §7.3).
      redirect_uris: [
        "http://127.0.0.1/datumctl/auth/callback",
        "http://localhost/datumctl/auth/callback",
        "http://[::1]/datumctl/auth/callback",
        "http://127.0.0.1/oauth/redirect",
        "http://localhost/oauth/redirect",
      ],
    }],
    routes: ROUTES,
    scopes: SUPPORTED_SCOPES,
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "given_name", "family_name"],
    },
    // Datum's ID tokens carry email and name even on the code flow.
    conformIdTokenClaims: false,
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomUUID()] },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    ttl: {
      AccessToken: ttl,
      IdToken: ttl,
      RefreshToken: 30 * 24 * 3600,
      // A function, so a lifetime set over the admin API applies to the next code.
      DeviceCode: () => deviceCodeTtl,
      Grant: 30 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      AuthorizationCode: 60,
    },
    rotateRefreshToken: () => true,
    // deno-lint-ignore no-explicit-any
    issueRefreshToken: (_ctx: unknown, client: any, source: any) =>
      client.grantTypeAllowed("refresh_token") && source.scopes.has("offline_access"),
    findAccount: (_ctx: unknown, id: string) => {
      const account = findSeedAccount(id);
      if (!account) return undefined;
      return {
        accountId: account.id,
        claims: () => ({
          sub: account.id,
          email: account.email,
          email_verified: true,
          name: account.name,
          given_name: account.givenName,
          family_name: account.familyName,
        }),
      };
    },
    // deno-lint-ignore no-explicit-any
  } as any);

  // A grant that covers everything the CLI asks for, for auto-approved logins.
  async function grantFor(accountId: string, scope: string): Promise<string> {
    const grant = new provider.Grant({ accountId, clientId: LOCAL_CLIENT_ID });
    grant.addOIDCScope(scope);
    return await grant.save();
  }

  // deno-lint-ignore no-explicit-any
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method === "GET" && ctx.path === ROUTES.authorization) {
      const query = new URLSearchParams(ctx.querystring);
      if (normalizePrompt(query)) ctx.querystring = query.toString();
    }

    if (autoApprove && ctx.method === "GET" && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const account = requireAccount(autoApprove);
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const scope = String(details.params.scope ?? DEFAULT_SCOPE);
      const grantId = await grantFor(account.id, scope);
      const to = await provider.interactionResult(ctx.req, ctx.res, {
        login: { accountId: account.id },
        consent: { grantId },
      }, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(to);
      return;
    }

    // The provider's own login page takes an email; sessions must hold the opaque account id.
    if (ctx.method === "POST" && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const raw = await readBody(ctx.req);
      const form = new URLSearchParams(raw);
      if (form.get("prompt") === "login") {
        const account = findSeedAccount(form.get("login") ?? "");
        if (!account) {
          ctx.status = 303;
          ctx.redirect(ctx.path);
          return;
        }
        form.set("login", account.id);
      }
      ctx.req.body = form.toString();
      await next();
      return;
    }

    let devicePollAt: number | undefined;
    if (ctx.method === "POST" && ctx.path === ROUTES.token) {
      if (opts.faults.takeToken503()) {
        ctx.status = 503;
        ctx.type = "text/plain";
        ctx.body = UPSTREAM_RESET_MESSAGE;
        return;
      }
      const raw = await readBody(ctx.req);
      const form = new URLSearchParams(raw);
      const grantType = form.get("grant_type");
      if (grantType === JWT_BEARER) {
        await jwtBearerGrant(ctx, form);
        return;
      }
      if (grantType === "refresh_token" && opts.faults.revokedRefreshTokens) {
        ctx.status = 400;
        ctx.set("cache-control", "no-store");
        ctx.body = { error: "invalid_grant", error_description: "grant request is invalid" };
        return;
      }
      if (grantType === DEVICE_CODE) {
        devicePollAt = Date.now();
        // oidc-provider never answers slow_down itself, so the burst is answered here.
        if (opts.faults.takeDeviceSlowDown()) {
          ctx.status = 400;
          ctx.set("cache-control", "no-store");
          ctx.body = {
            error: "slow_down",
            error_description: "polling too often; wait 5 seconds longer between polls",
          };
          recordPoll(devicePollAt, "slow_down");
          return;
        }
      }
      // The body is consumed; oidc-provider falls back to a pre-read body.
      ctx.req.body = raw;
    }

    await next();

    if (devicePollAt !== undefined) {
      const error = ctx.body?.error;
      recordPoll(
        devicePollAt,
        typeof error === "string" ? error : ctx.status === 200 ? "tokens" : `HTTP ${ctx.status}`,
      );
    }

    if (
      ctx.oidc?.route === "device_authorization" && ctx.status === 200 && ctx.body?.device_code
    ) {
      ctx.body = { ...ctx.body, interval: opts.devicePollIntervalSeconds };
      if (opts.faults.takeDeviceDenied()) {
        // What the device page's "deny" button (the `abort` form field) records on the code.
        const code = ctx.oidc.entities.DeviceCode;
        Object.assign(code, {
          error: "access_denied",
          errorDescription: "the user denied the sign-in request",
        });
        await code.save();
      } else if (autoApprove) {
        const account = requireAccount(autoApprove);
        const code = ctx.oidc.entities.DeviceCode;
        const scope = String(code.params?.scope ?? DEFAULT_SCOPE);
        Object.assign(code, {
          accountId: account.id,
          grantId: await grantFor(account.id, scope),
          scope,
          authTime: Math.floor(Date.now() / 1000),
          amr: ["pwd"],
        });
        await code.save();
      }
    }
  });

  // RFC 7523 JWT bearer: the assertion is signed by the service account's key.
  // deno-lint-ignore no-explicit-any
  async function jwtBearerGrant(ctx: any, form: URLSearchParams) {
    ctx.set("cache-control", "no-store");
    const fail = (error: string, description: string) => {
      ctx.status = 400;
      ctx.body = { error, error_description: description };
    };
    const assertion = form.get("assertion");
    if (!assertion) return fail("invalid_request", "missing required parameter 'assertion'");
    let header: jose.ProtectedHeaderParameters;
    try {
      header = jose.decodeProtectedHeader(assertion);
    } catch {
      return fail("invalid_grant", "assertion is not a JWT");
    }
    if (header.kid !== SERVICE_ACCOUNT.privateKeyId || !serviceAccountKeys) {
      return fail("invalid_grant", "unknown key id");
    }
    const { publicKey } = await serviceAccountKeyPair();
    try {
      await jose.jwtVerify(assertion, publicKey, {
        algorithms: ["RS256"],
        issuer: SERVICE_ACCOUNT.clientId,
        subject: SERVICE_ACCOUNT.clientId,
        audience: [issuer, `${issuer}/`, `${issuer}${ROUTES.token}`],
        requiredClaims: ["exp", "iat"],
      });
    } catch (e) {
      return fail("invalid_grant", `assertion invalid: ${(e as Error).message}`);
    }
    const requested = (form.get("scope") ?? "openid profile email").split(" ").filter((s) =>
      SUPPORTED_SCOPES.includes(s) && s !== "offline_access"
    );
    const scope = requested.length ? requested.join(" ") : "openid";
    const account = requireAccount(SERVICE_ACCOUNT.clientId);
    const client = await provider.Client.find(LOCAL_CLIENT_ID);
    const at = new provider.AccessToken({
      accountId: account.id,
      client,
      grantId: await grantFor(account.id, scope),
      gty: "jwt_bearer",
      scope,
    });
    const value = await at.save();
    ctx.status = 200;
    ctx.body = {
      access_token: value,
      token_type: "Bearer",
      expires_in: at.expiration,
      scope,
    };
  }

  provider.on(
    "server_error",
    (_ctx: unknown, err: Error) => console.error("local stack: provider error:", err),
  );
  server.on("request", provider.callback());

  return {
    issuer,
    clientId: LOCAL_CLIENT_ID,
    get autoApprove() {
      return autoApprove;
    },
    setAutoApprove(email) {
      autoApprove = email ? requireAccount(email).email : undefined;
    },
    get deviceCodeTtlSeconds() {
      return deviceCodeTtl;
    },
    setDeviceCodeTtl(seconds) {
      deviceCodeTtl = checkDeviceCodeTtl(seconds);
    },
    devicePolls: () => polls.map((p) => ({ ...p })),
    async verifyAccessToken(token) {
      const at = await provider.AccessToken.find(token);
      if (!at || at.isExpired) return undefined;
      const account = findSeedAccount(at.accountId);
      if (!account) return undefined;
      return { account, scope: at.scope ?? "", clientId: at.clientId, expiresAt: at.exp };
    },
    async serviceAccountKeyFile(apiEndpoint) {
      const { privateKey } = await serviceAccountKeyPair();
      return {
        type: "datum_service_account",
        api_endpoint: apiEndpoint,
        token_uri: `${issuer}${ROUTES.token}`,
        scope: "openid profile email",
        project_id: "infra",
        client_email: SERVICE_ACCOUNT.clientEmail,
        client_id: SERVICE_ACCOUNT.clientId,
        private_key_id: SERVICE_ACCOUNT.privateKeyId,
        private_key: await jose.exportPKCS8(privateKey),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function checkDeviceCodeTtl(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new RangeError("deviceCodeTtlSeconds must be a whole number of seconds, at least 1");
  }
  return seconds;
}

function requireAccount(idOrEmail: string): SeedAccount {
  const account = findSeedAccount(idOrEmail);
  if (!account) throw new RangeError(`no seed account ${idOrEmail}`);
  return account;
}

async function makeSigningJwk(): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
}
