/**
 * A scripted "browser" for end-to-end login tests, used as
 * `BROWSER="deno run -A tests/support/scripted-browser.ts"`: it opens the URL it is given and
 * follows redirects with a cookie jar, submitting the first form of any page it lands on (login
 * form: `login=<SCRIPTED_BROWSER_USER>`), until it reaches the CLI's loopback callback.
 *
 * Knobs (environment): `SCRIPTED_BROWSER_USER` (email for a login form), `SCRIPTED_BROWSER_STATE`
 * (replace the `state` the callback receives, to test CSRF protection), `SCRIPTED_BROWSER_STRAY`
 * (first send these `|`-separated query strings to the callback, as a stray page would, logging
 * each status as `stray <query> -> <status>`),
 * `SCRIPTED_BROWSER_LOG` (append a trace of each hop to this file).
 */

const url = Deno.args[Deno.args.length - 1];
const user = Deno.env.get("SCRIPTED_BROWSER_USER") ?? "alice@example.com";
const fakeState = Deno.env.get("SCRIPTED_BROWSER_STATE");
const logPath = Deno.env.get("SCRIPTED_BROWSER_LOG");

function log(line: string) {
  if (logPath) Deno.writeTextFileSync(logPath, line + "\n", { append: true });
}

const jar = new Map<string, string>();

function remember(res: Response) {
  for (const cookie of res.headers.getSetCookie()) {
    const [pair, ...attrs] = cookie.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const path = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith("path="))
      ?.slice(5) ?? "/";
    const key = `${name};${path}`;
    const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === "";
    if (expired) jar.delete(key);
    else jar.set(key, `${name}=${value}`);
  }
}

function cookieHeader(target: URL): string {
  return [...jar.entries()]
    .filter(([key]) => target.pathname.startsWith(key.slice(key.indexOf(";") + 1)))
    .map(([, v]) => v)
    .join("; ");
}

function isCallback(target: URL): boolean {
  return target.pathname === "/datumctl/auth/callback";
}

function firstForm(
  html: string,
  base: URL,
): { action: URL; method: string; fields: URLSearchParams } | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const attr = (src: string, name: string) =>
    new RegExp(`${name}\\s*=\\s*"([^"]*)"`, "i").exec(src)?.[1];
  const fields = new URLSearchParams();
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = attr(input[1], "name");
    if (!name) continue;
    const type = (attr(input[1], "type") ?? "text").toLowerCase();
    if (type === "submit" || type === "button") continue;
    let value = attr(input[1], "value") ?? "";
    if (name === "login" || name === "email" || name === "username") value = user;
    if (name === "password") value = "any";
    fields.set(name, value);
  }
  const action = new URL(attr(form[1], "action") ?? base.href, base);
  return { action, method: (attr(form[1], "method") ?? "post").toUpperCase(), fields };
}

const stray = Deno.env.get("SCRIPTED_BROWSER_STRAY");
if (stray !== undefined) {
  const callback = new URL(new URL(url).searchParams.get("redirect_uri") ?? "");
  for (const query of stray.split("|")) {
    const res = await fetch(`${callback.origin}${callback.pathname}?${query}`);
    await res.body?.cancel();
    log(`stray ${query} -> ${res.status}`);
  }
}

let target = new URL(url);
let method = "GET";
let body: URLSearchParams | undefined;
for (let hop = 0; hop < 30; hop++) {
  if (isCallback(target) && fakeState !== undefined) target.searchParams.set("state", fakeState);
  const res = await fetch(target, {
    method,
    redirect: "manual",
    headers: { cookie: cookieHeader(target) },
    body,
  });
  remember(res);
  log(`${method} ${target.pathname} -> ${res.status}`);
  const location = res.headers.get("location");
  if (isCallback(target)) {
    await res.body?.cancel();
    Deno.exit(res.ok ? 0 : 1);
  }
  if (res.status >= 300 && res.status < 400 && location) {
    await res.body?.cancel();
    target = new URL(location, target);
    method = "GET";
    body = undefined;
    continue;
  }
  const html = await res.text();
  const form = res.ok ? firstForm(html, target) : undefined;
  if (!form) {
    log(`stuck at ${target.href}: ${html.slice(0, 300)}`);
    Deno.exit(2);
  }
  target = form.action;
  method = form.method;
  body = form.fields;
}
log("too many hops");
Deno.exit(3);
