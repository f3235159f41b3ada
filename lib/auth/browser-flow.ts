/**
 * The browser login: authorization code with PKCE (S256), `state` and `nonce`, answered on a
 * one-shot listener at `http://127.0.0.1:<random port>/datumctl/auth/callback`.
 *
 * The URL is always printed (through the caller's `say`), the browser is opened through `BROWSER`
 * when set, else the platform opener; Ctrl-C aborts with exit 130 and an unfinished login times out
 * (`DATUMCTL_LOGIN_TIMEOUT` seconds, default 300). A request to the callback without this login's
 * `state` is answered 400 and ignored: a stray or hostile request cannot end (or cancel) the login.
 */
import * as oauth from "oauth4webapi";
import { CliError, ExitCode } from "../core/errors.ts";
import {
  describe,
  httpOptions,
  identityFromTokenResponse,
  InterruptWatch,
  LOGIN_SCOPES,
  oauthFailure,
  publicClient,
  type VerifiedIdentity,
} from "./oidc.ts";
import type { LoginEndpoints } from "./endpoints.ts";

/** The callback path datumctl has always used (and Zitadel's client allows). */
export const CALLBACK_PATH = "/datumctl/auth/callback";

/** Reporting hooks a login uses to talk to the person at the terminal. */
export interface LoginReporter {
  /** Writes one line for the person (stderr). */
  say(line: string): void;
  /** True when stderr is a terminal (QR codes, etc.). */
  interactive: boolean;
  env(name: string): string | undefined;
}

/** What a successful interactive grant yields. */
export interface GrantResult {
  identity: VerifiedIdentity;
  tokens: oauth.TokenEndpointResponse;
}

const DEFAULT_TIMEOUT_S = 300;

function loginTimeoutMs(env: (name: string) => string | undefined): number {
  const raw = env("DATUMCTL_LOGIN_TIMEOUT");
  if (raw === undefined || raw.trim() === "") return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CliError(
      "BAD_LOGIN_TIMEOUT",
      `DATUMCTL_LOGIN_TIMEOUT="${raw}" is not a number of seconds`,
      {
        hint: "Set it to a positive number (e.g. 600), or unset it for 300.",
        exitCode: ExitCode.config,
      },
    );
  }
  return seconds * 1000;
}

function page(title: string, body: string, status = 200): Response {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${body}</p></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Opens `url` in a browser: the `BROWSER` command when set (its `%s` replaced by the URL, else
 * the URL appended), else xdg-open / open / the Windows URL handler. Returns an error text when
 * the opener could not even be started.
 */
export function openInBrowser(
  url: string,
  env: (name: string) => string | undefined,
  onFailure: (reason: string) => void,
): void {
  let argv: string[];
  const browser = env("BROWSER");
  if (browser) {
    const words = browser.trim().split(/\s+/);
    argv = words.some((w) => w.includes("%s"))
      ? words.map((w) => w.replaceAll("%s", url))
      : [...words, url];
  } else if (Deno.build.os === "darwin") {
    argv = ["open", url];
  } else if (Deno.build.os === "windows") {
    // rundll32 takes the URL verbatim; `cmd /c start` would split it at every `&`.
    argv = ["rundll32", "url.dll,FileProtocolHandler", url];
  } else {
    argv = ["xdg-open", url];
  }
  try {
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.then((status) => {
      if (!status.success) onFailure(`${argv[0]} exited with code ${status.code}`);
    }).catch(() => {});
    child.unref();
  } catch (err) {
    onFailure(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Runs the browser login against `as` and returns the verified identity and tokens. Nothing is
 * stored here.
 */
export async function browserLogin(
  as: oauth.AuthorizationServer,
  endpoints: LoginEndpoints,
  reporter: LoginReporter,
): Promise<GrantResult> {
  // Read before anything listens, so a bad value fails without leaving a server behind.
  const timeoutMs = loginTimeoutMs(reporter.env);
  if (!as.authorization_endpoint) {
    throw new CliError("LOGIN_FAILED", `${as.issuer} has no authorization endpoint`, {
      hint: "Use 'datumctl login --no-browser'.",
    });
  }
  const client = publicClient(endpoints.clientId);
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();

  let settle!: { resolve: (params: URLSearchParams) => void; reject: (err: Error) => void };
  const callback = new Promise<URLSearchParams>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let answered = false;

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, (request) => {
    const url = new URL(request.url);
    if (url.pathname !== CALLBACK_PATH) return new Response("Not found", { status: 404 });
    if (answered) return page("Already signed in", "You can close this tab.");
    const params = url.searchParams;
    if (params.get("state") !== state) {
      // Any page or local process can call this listener; only the answer carrying our state
      // may end the login, so anything else is refused here and the login keeps waiting.
      return page("Invalid state parameter", "This is not the sign-in you started.", 400);
    }
    if (!params.get("code")) {
      answered = true;
      const reason = params.get("error_description") || params.get("error") ||
        "Authorization code not found in callback request.";
      settle.reject(
        new CliError("LOGIN_REFUSED", `sign-in was not completed: ${reason}`, {
          hint: "Run 'datumctl login' again.",
          exitCode: ExitCode.noPermission,
        }),
      );
      return page("Sign-in failed", escapeHtml(reason), 400);
    }
    answered = true;
    settle.resolve(params);
    return page("Signed in to Datum Cloud", "You can close this tab and return to the terminal.");
  });
  const redirectUri = `http://127.0.0.1:${server.addr.port}${CALLBACK_PATH}`;

  const authUrl = new URL(as.authorization_endpoint);
  authUrl.searchParams.set("client_id", endpoints.clientId);
  authUrl.searchParams.set("redirect_uri", redirectUri);
  authUrl.searchParams.set("response_type", "code");
  authUrl.searchParams.set("scope", LOGIN_SCOPES.join(" "));
  authUrl.searchParams.set("state", state);
  authUrl.searchParams.set("nonce", nonce);
  authUrl.searchParams.set("code_challenge", challenge);
  authUrl.searchParams.set("code_challenge_method", "S256");
  const prompts = (as as Record<string, unknown>).prompt_values_supported;
  if (Array.isArray(prompts) && prompts.includes("select_account")) {
    authUrl.searchParams.set("prompt", "select_account");
  }

  const watch = new InterruptWatch();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const minutes = timeoutMs >= 60_000
        ? `${Math.round(timeoutMs / 60_000)} min`
        : `${timeoutMs / 1000} s`;
      reject(
        new CliError(
          "LOGIN_TIMEOUT",
          `the browser sign-in was not finished within ${minutes}`,
          {
            hint:
              "Run 'datumctl login' again, or 'datumctl login --no-browser' to sign in from another device.",
            exitCode: ExitCode.tempFail,
            retryable: true,
          },
        ),
      );
    }, timeoutMs);
  });

  try {
    reporter.say(`Opening your browser to sign in at ${endpoints.authHost}...`);
    reporter.say("If it does not open, visit this URL:");
    reporter.say(`  ${authUrl.href}`);
    openInBrowser(authUrl.href, reporter.env, (reason) => {
      reporter.say(`Could not open a browser (${reason}).`);
      reporter.say(
        "Open the URL above yourself, or run 'datumctl login --no-browser' to use a code instead.",
      );
    });
    reporter.say("Waiting for the browser (Ctrl-C to cancel)...");
    const params = await Promise.race([callback, timeout, watch.interrupted]);

    let validated: URLSearchParams;
    try {
      validated = oauth.validateAuthResponse(as, client, params, state);
    } catch (err) {
      throw new CliError("LOGIN_REFUSED", `the sign-in answer was rejected: ${describe(err)}`, {
        hint: "Run 'datumctl login' again.",
        exitCode: ExitCode.noPermission,
        cause: err,
      });
    }
    let response: Response;
    let tokens: oauth.TokenEndpointResponse;
    try {
      response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        validated,
        redirectUri,
        verifier,
        httpOptions(as.token_endpoint ?? as.issuer),
      );
      tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: nonce,
        requireIdToken: true,
      });
    } catch (err) {
      throw oauthFailure("exchanging the sign-in code", err);
    }
    const identity = await identityFromTokenResponse(as, response, tokens);
    return { identity, tokens };
  } finally {
    clearTimeout(timer);
    watch.dispose();
    await server.shutdown().catch(() => {});
  }
}
