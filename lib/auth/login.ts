/**
 * `datumctl login` minus the terminal: pick the flow (browser, device, service-account key),
 * run it, store the credentials and upsert the session.
 *
 * The OIDC flows (oauth4webapi) are imported only when they run. Context discovery and the context
 * picker are not done here: the command runs them afterwards.
 */
import { loadConfig, type Session, updateConfig } from "../store/config.ts";
import { CredentialStore, type StorageKind, type StoredCredentials } from "../store/credentials.ts";
import { writePrivateFile } from "../store/files.ts";
import type { Identity } from "./token-source.ts";
import {
  type EndpointFlags,
  type LoginEndpoints,
  parseServerUrl,
  resolveLoginEndpoints,
  storedApiHostname,
} from "./endpoints.ts";
import { headlessReason } from "./headless.ts";
import { sessionNameFor, userKeyFor } from "./migrations.ts";
import { storedTokenFrom } from "./stored-token.ts";
import type { LoginReporter } from "./browser-flow.ts";
import { caDataFromPem } from "../http/tls.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export type { LoginReporter } from "./browser-flow.ts";

/** `login` flags. */
export interface LoginOptions extends EndpointFlags {
  /** Use the device flow even when a browser looks available. */
  noBrowser?: boolean;
  /** A service-account key file (`--credentials`). */
  credentials?: string;
  /** A PEM file of the CA to trust for the API (`--certificate-authority`), kept in the session. */
  certificateAuthority?: string;
  configPath?: string;
}

/** Reads `--certificate-authority FILE` as `certificate-authority-data`. */
async function readCertificateAuthority(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new CliError(
      "CA_UNREADABLE",
      `cannot read the CA file ${path}: ${(err as Error).message}`,
      {
        hint: "Pass a PEM file with the server's CA certificate.",
        exitCode: ExitCode.usage,
      },
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new CliError("CA_INVALID", `${path} holds no PEM certificate`, {
      hint: "Pass a PEM file (-----BEGIN CERTIFICATE-----) with the server's CA certificate.",
      exitCode: ExitCode.dataError,
    });
  }
  return caDataFromPem(text);
}

/** What a login produced. */
export interface LoginOutcome {
  session: Session;
  identity: Identity;
  endpoints: LoginEndpoints;
  flow: "browser" | "device" | "service-account";
  storage: StorageKind;
}

const SERVICE_ACCOUNT_PLACEHOLDER_CLIENT = "\0service-account";

/** Runs a login end to end and returns the stored session. */
export async function login(options: LoginOptions, reporter: LoginReporter): Promise<LoginOutcome> {
  if (options.credentials) options = await withKeyFileEndpoints(options);
  const endpoints = resolveLoginEndpoints({
    ...options,
    // A key file carries its own client id; unknown hosts need no --client-id then.
    clientId: options.clientId ||
      (options.credentials ? SERVICE_ACCOUNT_PLACEHOLDER_CLIENT : undefined),
  });
  const store = new CredentialStore({ env: reporter.env, warn: (line) => reporter.say(line) });
  // Fail on an unreadable config, CA file or credential store before anyone signs in for nothing.
  await loadConfig(options.configPath);
  const caData = options.certificateAuthority
    ? await readCertificateAuthority(options.certificateAuthority)
    : undefined;
  await store.activeUser();

  let userKey: string;
  let creds: StoredCredentials;
  let flow: LoginOutcome["flow"];
  if (options.credentials) {
    flow = "service-account";
    ({ userKey, creds } = await serviceAccountLogin(options.credentials, endpoints, reporter));
  } else {
    const { discover } = await import("./oidc.ts");
    let useDevice = options.noBrowser === true;
    if (!useDevice) {
      const reason = headlessReason({ env: reporter.env });
      if (reason) {
        reporter.say(`No local browser can be used (${reason}); signing in with a code instead.`);
        reporter.say("Set BROWSER to a browser command to force the browser login.");
        useDevice = true;
      }
    }
    const as = await discover(endpoints.issuer);
    let grant;
    if (useDevice) {
      flow = "device";
      const { deviceLogin } = await import("./device-flow.ts");
      grant = await deviceLogin(as, endpoints, reporter);
    } else {
      flow = "browser";
      const { browserLogin } = await import("./browser-flow.ts");
      grant = await browserLogin(as, endpoints, reporter);
    }
    userKey = userKeyFor(grant.identity.email, endpoints.authHost);
    creds = {
      hostname: endpoints.authHost,
      api_hostname: storedApiHostname(endpoints.apiBase),
      client_id: endpoints.clientId,
      endpoint_auth_url: as.authorization_endpoint ?? "",
      endpoint_token_url: as.token_endpoint ?? "",
      scopes: ["openid", "profile", "email", "offline_access"],
      token: storedTokenFrom(grant.tokens as Parameters<typeof storedTokenFrom>[0]),
      user_name: grant.identity.name ?? "",
      user_email: grant.identity.email,
      subject: grant.identity.subject,
    };
  }

  await store.putCredentials(userKey, creds);
  await store.setActiveUser(userKey);
  await store.addKnownUser(userKey);

  const session: Session = {
    name: sessionNameFor(creds.user_email, endpoints.apiBase),
    "user-key": userKey,
    "user-email": creds.user_email,
    ...(creds.user_name ? { "user-name": creds.user_name } : {}),
    endpoint: {
      server: endpoints.apiBase,
      "auth-hostname": endpoints.authHost,
      ...(caData ? { "certificate-authority-data": caData } : {}),
    },
  };
  const saved = await updateConfig((config) => {
    const existing = config.sessions.find((s) => s.name === session.name);
    let result: Session;
    if (existing) {
      // Keep what the user chose before (last context) and fields we do not manage.
      Object.assign(existing, session, { endpoint: { ...existing.endpoint, ...session.endpoint } });
      if (!creds.user_name) delete existing["user-name"];
      result = existing;
    } else {
      config.sessions.push(session);
      result = session;
    }
    config["active-session"] = result.name;
    const current = config.contexts.find((c) => c.name === config["current-context"]);
    if (current && current.session !== result.name) {
      const last = config.contexts.find((c) => c.name === result["last-context"]);
      if (last && last.session === result.name) config["current-context"] = last.name;
      else delete config["current-context"];
    }
    return result;
  }, options.configPath);

  return {
    session: saved,
    identity: {
      email: creds.user_email,
      name: creds.user_name || undefined,
      subject: creds.subject,
    },
    endpoints,
    flow,
    storage: await store.kind(),
  };
}

/**
 * A key file names its environment (`api_endpoint`, and the issuer through `token_uri`): used
 * when no endpoint flag is given, so `login --credentials key.json` goes where the key belongs.
 * Any endpoint flag wins over the file (then the issuer is derived from the flags as usual).
 */
async function withKeyFileEndpoints(options: LoginOptions): Promise<LoginOptions> {
  if (options.endpoint || options.apiHostname || options.authEndpoint || options.hostname) {
    return options;
  }
  const { readServiceAccountKey } = await import("./service-account.ts");
  const path = options.credentials!;
  const key = await readServiceAccountKey(path);
  const result = { ...options };
  if (key.api_endpoint) {
    const api = parseServerUrl(key.api_endpoint, `the api_endpoint of ${path}`);
    result.endpoint = `${api.protocol}//${api.host}${api.pathname}`.replace(/\/+$/, "");
  }
  if (key.token_uri) {
    result.authEndpoint = parseServerUrl(key.token_uri, `the token_uri of ${path}`).origin;
  }
  return result;
}

async function serviceAccountLogin(
  path: string,
  endpoints: LoginEndpoints,
  reporter: LoginReporter,
): Promise<{ userKey: string; creds: StoredCredentials }> {
  const {
    DEFAULT_SERVICE_ACCOUNT_SCOPE,
    exchangeServiceAccountKey,
    readServiceAccountKey,
    serviceAccountCredentials,
    serviceAccountKeyPath,
  } = await import("./service-account.ts");
  const key = await readServiceAccountKey(path);
  const { discover } = await import("./oidc.ts");
  const as = await discover(endpoints.issuer);
  // The key file's own token URL when it belongs to this issuer, else the issuer's.
  const tokenUrl =
    key.token_uri && new URL(key.token_uri).origin === new URL(endpoints.issuer).origin
      ? key.token_uri
      : as.token_endpoint ?? `${endpoints.issuer}/oauth/v2/token`;
  reporter.say(`Signing in as service account ${key.client_email}...`);
  const answer = await exchangeServiceAccountKey(key, tokenUrl);
  const userKey = userKeyFor(key.client_email, endpoints.authHost);
  const pemPath = await serviceAccountKeyPath(userKey, reporter.env);
  await writePrivateFile(pemPath, key.private_key);
  return {
    userKey,
    creds: serviceAccountCredentials(key, answer, {
      hostname: endpoints.authHost,
      apiHostname: storedApiHostname(endpoints.apiBase),
      authUrl: as.authorization_endpoint ?? "",
      tokenUrl,
      scopes: (key.scope ?? DEFAULT_SERVICE_ACCOUNT_SCOPE).split(" ").filter(Boolean),
    }, { private_key_path: pemPath }),
  };
}
