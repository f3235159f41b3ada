/**
 * Files the user owns stay theirs: a config, credential file or kubeconfig that is a symbolic
 * link (a dotfiles repo) stays a link and its target gets the update, atomically; a
 * `~/.datumctl` open to other users is closed to 0700 with a note; a credential file that does
 * not parse is reported without quoting any of it (it holds tokens).
 */
import assert from "node:assert/strict";
import { assertSucceeded, makeHome, runCli } from "../support/cli.ts";
import { startStack } from "../support/stack.ts";
import { loginFlags } from "../support/auth.ts";

const FILE = { DATUMCTL_CREDENTIALS_STORE: "file" };

async function leftoverTemps(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.includes(".tmp-")) names.push(entry.name);
  }
  return names;
}

Deno.test("symlinked config, credentials and kubeconfig are written through to their targets", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    const home = await makeHome();
    const dotfiles = `${home}/dotfiles`;
    await Deno.mkdir(`${dotfiles}/kube`, { recursive: true });
    await Deno.mkdir(`${home}/.datumctl`, { mode: 0o700 });
    await Deno.mkdir(`${home}/.kube`, { mode: 0o700 });
    await Deno.writeTextFile(`${dotfiles}/datumctl-config`, "");
    await Deno.writeTextFile(`${dotfiles}/credentials.json`, "");
    await Deno.writeTextFile(`${dotfiles}/kube/config`, "apiVersion: v1\nkind: Config\n");
    // One absolute link, one relative link, and one link to a link.
    await Deno.symlink(`${dotfiles}/datumctl-config`, `${home}/.datumctl/config`);
    await Deno.symlink("../dotfiles/credentials.json", `${home}/.datumctl/credentials.json`);
    await Deno.symlink(`${dotfiles}/kube/config`, `${dotfiles}/kube/current`);
    await Deno.symlink(`${dotfiles}/kube/current`, `${home}/.kube/config`);

    assertSucceeded(
      await runCli(["login", ...loginFlags(stack), "--no-browser"], { home, env: FILE }),
      "login",
    );
    assertSucceeded(await runCli(["ctx", "use", "acme-corp/infra"], { home, env: FILE }), "ctx");
    assertSucceeded(
      await runCli(["auth", "update-kubeconfig"], { home, env: FILE }),
      "update-kubeconfig",
    );

    for (const link of [".datumctl/config", ".datumctl/credentials.json", ".kube/config"]) {
      assert.ok((await Deno.lstat(`${home}/${link}`)).isSymlink, `${link} is still a link`);
    }
    assert.ok((await Deno.lstat(`${dotfiles}/kube/current`)).isSymlink);
    const config = await Deno.readTextFile(`${dotfiles}/datumctl-config`);
    assert.match(config, /alice@example\.com/);
    assert.match(config, /current-context: .*acme-corp\/infra/);
    const creds = JSON.parse(await Deno.readTextFile(`${dotfiles}/credentials.json`));
    assert.ok(Object.keys(creds["datumctl-auth"]).some((k) => k.startsWith("alice@example.com@")));
    const kube = await Deno.readTextFile(`${dotfiles}/kube/config`);
    assert.match(kube, /datum-project-infra/);
    assert.match(kube, /get-token/);
    for (const dir of [dotfiles, `${dotfiles}/kube`, `${home}/.datumctl`, `${home}/.kube`]) {
      assert.deepEqual(await leftoverTemps(dir), [], `no temp file left in ${dir}`);
    }
    assert.equal((await Deno.stat(`${dotfiles}/credentials.json`)).mode! & 0o777, 0o600);

    // What the links point at is read back too: the login works.
    const token = await runCli(["auth", "get-token"], { home, env: FILE });
    assertSucceeded(token, "get-token");
    assert.ok(token.stdout.length > 20);

    // Logging out empties the target instead of deleting the link and leaving the secrets.
    assertSucceeded(await runCli(["logout", "--all"], { home, env: FILE }), "logout");
    assert.ok((await Deno.lstat(`${home}/.datumctl/credentials.json`)).isSymlink);
    assert.equal(await Deno.readTextFile(`${dotfiles}/credentials.json`), "");
    assert.doesNotMatch(await Deno.readTextFile(`${dotfiles}/datumctl-config`), /alice/);
    const who = await runCli(["whoami"], { home, env: FILE });
    assert.equal(who.code, 77, who.stderr);
  } finally {
    await stack.stop();
  }
});

Deno.test("a ~/.datumctl that others can read is tightened to 0700, with a note", async () => {
  const stack = await startStack({ autoApprove: "alice@example.com" });
  try {
    const home = await makeHome();
    await Deno.mkdir(`${home}/.datumctl`);
    await Deno.chmod(`${home}/.datumctl`, 0o755);
    const res = await runCli(["login", ...loginFlags(stack), "--no-browser"], {
      home,
      env: FILE,
    });
    assertSucceeded(res, "login");
    assert.equal((await Deno.stat(`${home}/.datumctl`)).mode! & 0o777, 0o700);
    assert.match(
      res.stderr,
      /^note: .*\.datumctl was open to other users \(mode 0755\); changed it to 0700/m,
    );
    assert.doesNotMatch(res.stdout, /note:/);
    // Said once: the next run finds nothing to change.
    const again = await runCli(["auth", "list"], { home, env: FILE });
    assertSucceeded(again, "auth list");
    assert.doesNotMatch(again.stderr, /note:/);
  } finally {
    await stack.stop();
  }
});

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXJlZnJlc2gtdG9rZW4.Zm9vYmFyYmF6cXV4";

/** Broken files with the token right next to the syntax error. */
const BROKEN: Record<string, string> = {
  "unquoted token": `{"datumctl-auth": {"active_user": ${TOKEN}}}`,
  "token then a stray word": `{"datumctl-auth": {"active_user": "${TOKEN}" oops}}`,
  "cut off inside the token": `{"datumctl-auth": {"active_user": "${TOKEN.slice(0, 40)}`,
  "token with a raw newline": `{"datumctl-auth": {"active_user": "${TOKEN.slice(0, 30)}\n${
    TOKEN.slice(30)
  }"}}`,
};

Deno.test("a corrupt credentials.json is reported without any part of a token", async (t) => {
  for (const [what, text] of Object.entries(BROKEN)) {
    await t.step(what, async () => {
      const home = await makeHome();
      await Deno.mkdir(`${home}/.datumctl`, { mode: 0o700 });
      const path = `${home}/.datumctl/credentials.json`;
      await Deno.writeTextFile(path, text, { mode: 0o600 });
      const res = await runCli(["auth", "get-token"], { home, env: FILE });
      assert.equal(res.code, 65, res.stderr);
      assert.match(res.stderr, /cannot parse .*credentials\.json/);
      for (let i = 0; i + 6 <= TOKEN.length; i++) {
        const piece = TOKEN.slice(i, i + 6);
        assert.ok(!res.stderr.includes(piece), `stderr shows "${piece}":\n${res.stderr}`);
      }
      assert.equal(await Deno.readTextFile(path), text, "the file is left as it was");
    });
  }
});

Deno.test("a corrupt login entry inside credentials.json is reported without its token", async () => {
  const home = await makeHome();
  await Deno.mkdir(`${home}/.datumctl`, { mode: 0o700 });
  const key = "alice@example.com@127.0.0.1:9";
  await Deno.writeTextFile(
    `${home}/.datumctl/config`,
    `apiVersion: datumctl.config.datum.net/v1beta1
kind: DatumctlConfig
active-session: alice@example.com@127.0.0.1:8
sessions:
- name: alice@example.com@127.0.0.1:8
  user-key: ${key}
  user-email: alice@example.com
  endpoint:
    server: http://127.0.0.1:8
    auth-hostname: 127.0.0.1:9
`,
  );
  const blob = `{"token": {"access_token": ${TOKEN}, "refresh_token": "x"}}`;
  await Deno.writeTextFile(
    `${home}/.datumctl/credentials.json`,
    JSON.stringify({ "datumctl-auth": { [key]: blob, active_user: key } }),
    { mode: 0o600 },
  );
  const res = await runCli(["auth", "get-token"], { home, env: FILE });
  assert.equal(res.code, 65, res.stderr);
  assert.match(res.stderr, /cannot parse the entry "alice@example\.com@127\.0\.0\.1:9"/);
  for (let i = 0; i + 6 <= TOKEN.length; i++) {
    const piece = TOKEN.slice(i, i + 6);
    assert.ok(!res.stderr.includes(piece), `stderr shows "${piece}":\n${res.stderr}`);
  }
});
