/**
 * Service-account logins (RFC 7523 JWT bearer): read a Datum key file, mint a
 * short-lived RS256 assertion and exchange it for an access token. There is no refresh token; a
 * new assertion is minted whenever the token runs out.
 *
 * `jose` is loaded only when an assertion is signed.
 */
import { CliError, ExitCode } from "../core/errors.ts";
import { userConfigDir } from "../store/paths.ts";
import { postTokenRequest, TokenEndpointError } from "./token-endpoint.ts";
import type { StoredCredentials } from "../store/credentials.ts";
import { storedTokenFrom, type TokenEndpointAnswer } from "./stored-token.ts";

/** The fields of a Datum service-account key file that datumctl uses. */
export interface ServiceAccountKey {
  client_email: string;
  client_id: string;
  private_key_id: string;
  /** RSA PEM, PKCS#1 or PKCS#8. */
  private_key: string;
  scope?: string;
  /** The API server the key belongs to: used unless a flag or `DATUM_ENDPOINT` names one. */
  api_endpoint?: string;
  /** Its token endpoint; its origin is the issuer unless a flag or env var names one. */
  token_uri?: string;
  /** The project the service account works in: the default scope of `DATUM_CREDENTIALS`. */
  project_id?: string;
}

/** The scope used when the key file names none. */
export const DEFAULT_SERVICE_ACCOUNT_SCOPE = "openid profile email offline_access";

/** Reads and checks a key file; errors name the file and what is wrong with it. */
export async function readServiceAccountKey(path: string): Promise<ServiceAccountKey> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new CliError(
      "KEYFILE_UNREADABLE",
      `cannot read the service-account key file ${path}: ${
        err instanceof Error ? err.message : String(err)
      }`,
      {
        hint: "Check the path given to --credentials (or DATUM_CREDENTIALS).",
        exitCode: ExitCode.config,
      },
    );
  }
  return parseServiceAccountKey(text, path);
}

/** Parses key-file text; `path` is only used in error messages. */
export function parseServiceAccountKey(text: string, path: string): ServiceAccountKey {
  let value: Record<string, unknown>;
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error("not an object");
    }
    value = parsed;
  } catch (err) {
    throw new CliError(
      "KEYFILE_INVALID",
      `${path} is not a service-account key file: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { hint: "Download the key again from the Datum Cloud portal.", exitCode: ExitCode.dataError },
    );
  }
  if (value.type !== "datum_service_account") {
    throw new CliError(
      "KEYFILE_INVALID",
      `${path} is not a Datum service-account key (its "type" is not "datum_service_account")`,
      { hint: "Download the key again from the Datum Cloud portal.", exitCode: ExitCode.dataError },
    );
  }
  const missing = ["client_id", "private_key_id", "private_key"].filter((field) =>
    typeof value[field] !== "string" || value[field] === ""
  );
  if (missing.length > 0) {
    throw new CliError(
      "KEYFILE_INVALID",
      `${path} lacks ${missing.map((f) => `"${f}"`).join(", ")}`,
      { hint: "Download the key again from the Datum Cloud portal.", exitCode: ExitCode.dataError },
    );
  }
  const str = (field: string) =>
    typeof value[field] === "string" ? value[field] as string : undefined;
  return {
    client_email: str("client_email") || (value.client_id as string),
    client_id: value.client_id as string,
    private_key_id: value.private_key_id as string,
    private_key: value.private_key as string,
    scope: str("scope"),
    api_endpoint: str("api_endpoint"),
    token_uri: str("token_uri"),
    project_id: str("project_id"),
  };
}

/**
 * `<UserConfigDir>/datumctl/service-accounts/<sha256hex(userKey)>.pem`, where a service
 * account's private key is kept (too large for some keychains).
 */
export async function serviceAccountKeyPath(
  userKey: string,
  env?: (name: string) => string | undefined,
): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(userKey));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${userConfigDir(env)}/service-accounts/${hex}.pem`;
}

/**
 * The RS256 assertion Datum expects: header `kid`/`typ: JWT`; `iss = sub = client_id`,
 * `aud` = the issuer, `exp = iat + 60`, a random `jti`. Reads PKCS#1 and PKCS#8 keys.
 */
export async function mintAssertion(
  key: Pick<ServiceAccountKey, "client_id" | "private_key_id" | "private_key">,
  audience: string,
): Promise<string> {
  // Computed specifiers: `deno run` resolves the packages a literal import() names whenever this
  // module loads, which every command reading credentials would pay (docs/performance.md).
  const [jose, nodeCrypto] = ["jose", "node:crypto"];
  const [{ SignJWT, importPKCS8 }, { createPrivateKey }] = await Promise.all([
    import(jose) as Promise<typeof import("jose")>,
    import(nodeCrypto) as Promise<typeof import("node:crypto")>,
  ]);
  let pkcs8: string;
  try {
    // node:crypto reads both PKCS#1 ("RSA PRIVATE KEY") and PKCS#8; jose wants PKCS#8.
    const keyObject = createPrivateKey(key.private_key);
    if (keyObject.asymmetricKeyType !== "rsa") throw new Error("the private key is not an RSA key");
    pkcs8 = keyObject.export({ type: "pkcs8", format: "pem" }) as string;
  } catch (err) {
    throw new CliError(
      "KEYFILE_INVALID",
      `the service-account private key cannot be read: ${
        err instanceof Error ? err.message : String(err)
      }`,
      { hint: "Download the key again from the Datum Cloud portal.", exitCode: ExitCode.dataError },
    );
  }
  const signingKey = await importPKCS8(pkcs8, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: key.private_key_id, typ: "JWT" })
    .setIssuer(key.client_id)
    .setSubject(key.client_id)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(crypto.randomUUID())
    .sign(signingKey);
}

/**
 * Mints an assertion for `key` and exchanges it at `tokenUrl`. The assertion's audience is the
 * token URL's origin (the issuer), as Zitadel expects.
 */
export async function exchangeServiceAccountKey(
  key: Pick<ServiceAccountKey, "client_id" | "private_key_id" | "private_key" | "scope">,
  tokenUrl: string,
): Promise<TokenEndpointAnswer> {
  const assertion = await mintAssertion(key, new URL(tokenUrl).origin);
  try {
    return await postTokenRequest(tokenUrl, {
      grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      assertion,
      scope: key.scope || DEFAULT_SERVICE_ACCOUNT_SCOPE,
    });
  } catch (err) {
    if (err instanceof TokenEndpointError) {
      throw new CliError(
        "SERVICE_ACCOUNT_REJECTED",
        `the sign-in server rejected the service-account key ${key.private_key_id}: ${err.message}`,
        {
          hint:
            "Check that the key is still active in the Datum Cloud portal and belongs to this environment.",
          exitCode: ExitCode.noPermission,
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** Where a service-account login signs in, as its stored credentials record it. */
export interface ServiceAccountEndpoints {
  /** The sign-in server's host (`auth.datum.net`). */
  hostname: string;
  /** The API server's host (`api.datum.net`). */
  apiHostname: string;
  /** The authorization endpoint, when known (`""` otherwise). */
  authUrl: string;
  tokenUrl: string;
  scopes: string[];
}

/**
 * The credentials record of a service-account login (Go datumctl's `StoredCredentials` shape)
 * from its key and the token the first assertion bought. `privateKey` says where later
 * assertions find the PEM: a file (stored logins) or inline (a `DATUM_CREDENTIALS` login, kept
 * in memory only).
 */
export function serviceAccountCredentials(
  key: ServiceAccountKey,
  answer: TokenEndpointAnswer,
  endpoints: ServiceAccountEndpoints,
  privateKey: { private_key_path: string } | { private_key: string },
): StoredCredentials {
  return {
    hostname: endpoints.hostname,
    api_hostname: endpoints.apiHostname,
    client_id: key.client_id,
    endpoint_auth_url: endpoints.authUrl,
    endpoint_token_url: endpoints.tokenUrl,
    scopes: endpoints.scopes,
    token: storedTokenFrom(answer),
    user_name: key.client_email,
    user_email: key.client_email,
    subject: key.client_id,
    credential_type: "service_account",
    service_account: {
      client_email: key.client_email,
      client_id: key.client_id,
      private_key_id: key.private_key_id,
      ...privateKey,
      token_uri: endpoints.tokenUrl,
      ...(key.scope ? { scope: key.scope } : {}),
    },
  };
}
