/**
 * Helpers for the login end-to-end tests: the login flags for a local stack, a login for
 * in-process API calls, the scripted browser command, and readers for what a login leaves on disk.
 */
import type { LocalStack } from "./stack.ts";
import type { AuthContext } from "../../lib/auth/token-source.ts";
import { decodeJwtClaims } from "../../lib/auth/stored-token.ts";

const BROWSER_SCRIPT = new URL("./scripted-browser.ts", import.meta.url).pathname;

/** `--endpoint … --auth-endpoint … --client-id …` for `stack`. */
export function loginFlags(stack: LocalStack): string[] {
  return ["--endpoint", stack.api, "--auth-endpoint", stack.issuer, "--client-id", stack.clientId];
}

/** A login for in-process API calls (an `ApiClient`), from a token the stack mints for `email`. */
export async function tokenAuth(stack: LocalStack, email: string): Promise<AuthContext> {
  const tokens = await stack.tokensFor(email);
  const claims = decodeJwtClaims(tokens.id_token) ?? {};
  return {
    kind: "DATUM_TOKEN",
    identity: { email, subject: String(claims.sub ?? "") },
    apiBase: stack.api,
    tokens: {
      accessToken: () => Promise.resolve(tokens.access_token),
      expiry: () => Promise.resolve(undefined),
    },
  };
}

/** A `BROWSER` value that runs the scripted browser. */
export function scriptedBrowser(): string {
  return `${Deno.execPath()} run -A --quiet ${BROWSER_SCRIPT}`;
}

/** The host:port of a URL (session names and credential keys end with it). */
export function hostPort(url: string): string {
  return new URL(url).host;
}

/** `~/.datumctl/credentials.json` of `home`, parsed (`{}` when absent). */
export async function readCredentialsFile(
  home: string,
): Promise<Record<string, Record<string, string>>> {
  try {
    return JSON.parse(await Deno.readTextFile(`${home}/.datumctl/credentials.json`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw err;
  }
}

/** The StoredCredentials blob of `email` on `stack`, from the file store of `home`. */
export async function storedCredentials(
  home: string,
  stack: LocalStack,
  email: string,
): Promise<Record<string, unknown> & { token: Record<string, unknown> }> {
  const file = await readCredentialsFile(home);
  const raw = file["datumctl-auth"]?.[`${email}@${hostPort(stack.issuer)}`];
  if (!raw) throw new Error(`no stored credentials for ${email}`);
  return JSON.parse(raw);
}

/** Rewrites the stored token expiry of `email` (file store) so the next use must renew it. */
export async function expireStoredToken(home: string, stack: LocalStack, email: string) {
  const path = `${home}/.datumctl/credentials.json`;
  const file = await readCredentialsFile(home);
  const key = `${email}@${hostPort(stack.issuer)}`;
  const creds = JSON.parse(file["datumctl-auth"][key]);
  creds.token.expiry = new Date(Date.now() - 1000).toISOString();
  file["datumctl-auth"][key] = JSON.stringify(creds);
  await Deno.writeTextFile(path, JSON.stringify(file, null, 2));
}
