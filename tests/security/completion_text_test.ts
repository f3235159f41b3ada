/**
 * Shell completion shows only text. zsh and fish print each candidate's description beside it,
 * and those descriptions are data: a tunnel's label (from state.yml, which `tunnel update` may
 * fill from the server) and a context's session name. A label holding `ESC ] 0;… BEL` (set the
 * window title), `ESC[2K` (clear the line) or a bidirectional override reaches the answer as
 * visible escapes (`\x1b`, `\u202e`); the values themselves are unchanged.
 */
import assert from "node:assert/strict";
import { emptyConfig, serializeConfig } from "../../lib/store/config.ts";
import { upsertTunnelEntry } from "../../lib/tunnel/state.ts";
import { makeHome, runCli } from "../support/cli.ts";

const HOSTILE = "web\x1b]0;pwned\x07\x1b[1A\x1b[2K\u202eevil\x9b";
/** The first raw control or bidi-override character of `text` (tab and newline separate the answer). */
function rawControl(text: string): string | undefined {
  return [...text].find((c) => {
    const code = c.codePointAt(0)!;
    if (c === "\t" || c === "\n") return false;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e);
  });
}

/** The description of `value` in a completion answer (`value<TAB>description` lines). */
function descriptionOf(answer: string, value: string): string | undefined {
  for (const line of answer.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab >= 0 && line.slice(0, tab) === value) return line.slice(tab + 1);
  }
  return undefined;
}

Deno.test("completion descriptions from state.yml and the config are shown as text", async () => {
  const home = await makeHome();
  await upsertTunnelEntry(`${home}/.local/share/Datum`, {
    id: "tunnel-abc12",
    label: HOSTILE,
    target: { host: "localhost", port: 8080 },
    enabled: true,
  });
  const config = emptyConfig();
  config.contexts = [{ name: "alice@api.test/acme-corp", session: `alice${HOSTILE}` }];
  await Deno.mkdir(`${home}/.datumctl`, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(`${home}/.datumctl/config`, await serializeConfig(config));

  const expected = "web\\x1b]0;pwned\\x07\\x1b[1A\\x1b[2K\\u202eevil\\x9b";
  for (
    const [words, value, description] of [
      [["tunnel", "delete", "--id", ""], "tunnel-abc12", expected],
      [["tunnel", "listen", "--id", "tun"], "tunnel-abc12", expected],
      [["--context", ""], "alice@api.test/acme-corp", `alice${expected}`],
      [["ctx", "use", ""], "alice@api.test/acme-corp", `alice${expected}`],
    ] as const
  ) {
    const res = await runCli(["complete", "--", ...words], { home });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(
      rawControl(res.stdout),
      undefined,
      `${words.join(" ")}: ${JSON.stringify(res.stdout)}`,
    );
    assert.equal(
      descriptionOf(res.stdout, value),
      description,
      `${words.join(" ")}: ${res.stdout}`,
    );
  }
});
