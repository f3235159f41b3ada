import assert from "node:assert/strict";
import { Command } from "commander";
import {
  compareVersions,
  downloadPathFor,
  downloadVerified,
  fetchLatestVersion,
  installKind,
  replaceBinary,
} from "../lib/release/update.ts";
import { updateCheckPath, UpdateNotice } from "../lib/release/update-notice.ts";
import { attachUpdateNotice, type UpdateEnvironment } from "../commands/update.ts";
import { memoryIO } from "../lib/core/io.ts";
import { CliError } from "../lib/core/errors.ts";
import { fakeBinary, withFakeRelease } from "./support/release-server.ts";
import { makeHome, runCli } from "./support/cli.ts";

const LINUX = { os: "linux", arch: "x86_64" };

async function installedBinary(version: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "datumctl-bin-" });
  const path = `${dir}/datumctl`;
  await Deno.writeTextFile(path, fakeBinary(version), { mode: 0o755 });
  return path;
}

async function run(path: string): Promise<string> {
  const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("versions compare numerically, a pre-release before its release", () => {
  assert.ok(compareVersions("0.10.0", "0.9.9") > 0);
  assert.ok(compareVersions("v1.2.3", "1.2.3") === 0);
  assert.ok(compareVersions("1.2.3-rc.1", "1.2.3") < 0);
  assert.ok(compareVersions("1.2.3-rc.10", "1.2.3-rc.9") > 0);
  // semver's rules: build metadata is ignored, and compared numerically with it present.
  assert.ok(compareVersions("1.2.3+build.7", "1.2.3") === 0);
  assert.ok(compareVersions("1.10.0+linux", "1.9.0") > 0);
  assert.ok(compareVersions("1.0.0-alpha", "1.0.0-alpha.1") < 0);
  assert.ok(compareVersions("1.0.0-alpha.beta", "1.0.0-beta") < 0);
});

Deno.test("update refuses source runs and package-manager installs", () => {
  const none = () => undefined;
  assert.deepEqual(installKind("/usr/bin/deno", false, none), { kind: "source" });
  for (
    const [path, manager] of [
      ["/usr/bin/datumctl", "your system package manager"],
      ["/opt/homebrew/Cellar/datumctl/1.0.0/bin/datumctl", "Homebrew"],
      ["/usr/local/Cellar/datumctl/1.0.0/bin/datumctl", "Homebrew"],
      ["/nix/store/abc-datumctl/bin/datumctl", "Nix"],
      ["/snap/datumctl/12/bin/datumctl", "snap"],
      ["C:\\Users\\me\\scoop\\apps\\datumctl\\current\\datumctl.exe", "Scoop"],
    ]
  ) {
    assert.deepEqual(installKind(path, true, none), { kind: "managed", manager, path });
  }
  const marked = installKind(
    "/opt/tools/datumctl",
    true,
    (p) => p === "/opt/tools/datumctl.managed-by" ? "our fleet tool\n" : undefined,
  );
  assert.deepEqual(marked, {
    kind: "managed",
    manager: "our fleet tool",
    path: "/opt/tools/datumctl",
  });
  assert.deepEqual(installKind("/home/me/.local/bin/datumctl", true, none), {
    kind: "standalone",
    path: "/home/me/.local/bin/datumctl",
  });
});

Deno.test("a verified download replaces the binary atomically and runs", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    assert.equal(await fetchLatestVersion(server.url), "9.9.9");
    const path = await installedBinary("0.1.0");
    const download = await downloadVerified(server.url, LINUX, downloadPathFor(path));
    assert.equal(download.asset, "datumctl-linux-x86_64");
    await replaceBinary(path, download.path, "9.9.9");
    assert.equal(await run(path), "datumctl 9.9.9");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o755);
    // Nothing is left beside it.
    const dir = path.slice(0, path.lastIndexOf("/"));
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["datumctl"]);
  });
});

Deno.test("a download that does not match SHA256SUMS is refused; nothing changes", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const path = await installedBinary("0.1.0");
    const destination = downloadPathFor(path);
    await assert.rejects(
      () => downloadVerified(server.url, LINUX, destination),
      (err: CliError) => {
        assert.equal(err.code, "UPDATE_CHECKSUM_MISMATCH");
        assert.match(err.message, /does not match SHA256SUMS/);
        return true;
      },
    );
    await assert.rejects(Deno.lstat(destination), Deno.errors.NotFound, "the download is removed");
    assert.equal(await run(path), "datumctl 0.1.0");
  }, { tamper: "datumctl-linux-x86_64" });
});

Deno.test("a binary that does not start as the expected version is not swapped in", async () => {
  const path = await installedBinary("0.1.0");
  const downloaded = downloadPathFor(path);
  await Deno.writeTextFile(downloaded, "#!/bin/sh\nexit 3\n");
  await assert.rejects(
    () => replaceBinary(path, downloaded, "9.9.9"),
    /did not start as datumctl 9\.9\.9/,
  );
  assert.equal(await run(path), "datumctl 0.1.0");
  await assert.rejects(Deno.lstat(downloaded), Deno.errors.NotFound, "the download is removed");
});

Deno.test("a platform the release lacks is named", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    await assert.rejects(
      () => downloadVerified(server.url, { os: "freebsd", arch: "x86_64" }, "/nonexistent/x"),
      /lists no datumctl-freebsd-x86_64/,
    );
  });
});

Deno.test("`datumctl update` from source refuses; --check reports against the release folder", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const home = await makeHome();
    const refused = await runCli(["update"], {
      home,
      env: { DATUMCTL_INSTALL_BASE_URL: server.url },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: datumctl is running from source \(deno run\)/);
    assert.deepEqual(server.requests, [], "a refused update asks no server");
    const check = await runCli(["update", "--check"], {
      home,
      env: { DATUMCTL_INSTALL_BASE_URL: server.url },
    });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^datumctl 9\.9\.9 is available \(you have \d+\.\d+\.\d+\)/);
    const json = await runCli(["update", "--check", "-o", "json"], {
      home,
      env: { DATUMCTL_INSTALL_BASE_URL: `${server.url}/` },
    });
    const report = JSON.parse(json.stdout);
    assert.equal(report.latest, "9.9.9");
    assert.equal(report.updateAvailable, true);
    assert.equal(report.installedBy, "source");
  });
});

Deno.test("`update --notice off` is kept in the config", async () => {
  const home = await makeHome();
  const res = await runCli(["update", "--notice", "off"], { home });
  assert.equal(res.code, 0, res.stderr);
  assert.match(await Deno.readTextFile(`${home}/.datumctl/config`), /update-check: false/);
});

/** A tiny program with the notice attached, run as if from an installed binary. */
async function runWithNotice(
  opts: { env?: Record<string, string>; tty?: boolean; now: number; server: string; home: string },
): Promise<string> {
  const io = memoryIO(
    {
      HOME: opts.home,
      XDG_CACHE_HOME: `${opts.home}/.cache`,
      DATUMCTL_INSTALL_BASE_URL: opts.server,
      ...opts.env,
    },
    opts.tty ?? true,
  );
  const program = new Command("datumctl").exitOverride();
  program.command("ctx").action(() => io.out("contexts\n"));
  const env: UpdateEnvironment = {
    standalone: true,
    execPath: `${opts.home}/.local/bin/datumctl`,
    fetch,
    now: () => opts.now,
  };
  attachUpdateNotice(program, { io, version: "0.1.0" }, env);
  await program.parseAsync(["ctx"], { from: "user" });
  assert.equal(io.stdout, "contexts\n");
  return io.stderr;
}

Deno.test("the notice checks at most once a day and prints to a terminal only", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const home = await makeHome();
    // HOME (in the IO's environment) decides where the config and its update-check setting are.
    const day0 = Date.parse("2026-01-01T00:00:00Z");
    const base = { server: server.url, home };
    assert.equal(await runWithNotice({ ...base, now: day0, tty: false }), "");
    assert.equal(
      await runWithNotice({ ...base, now: day0, env: { DATUMCTL_NO_UPDATE_CHECK: "1" } }),
      "",
    );
    assert.equal(await runWithNotice({ ...base, now: day0, env: { CI: "true" } }), "");
    assert.deepEqual(server.requests, []);

    const first = await runWithNotice({ ...base, now: day0 });
    assert.match(
      first,
      /A new datumctl is available: 0\.1\.0 → 9\.9\.9\. Run `datumctl update`\./,
    );
    assert.deepEqual(server.requests, ["/VERSION"]);
    const record = JSON.parse(
      await Deno.readTextFile(updateCheckPath(`${home}/.cache/datumctl`)),
    );
    assert.deepEqual(record, { "checked-at": "2026-01-01T00:00:00.000Z", latest: "9.9.9" });

    // Within 24 hours: no request, no notice.
    assert.equal(await runWithNotice({ ...base, now: day0 + 23 * 3600_000 }), "");
    assert.equal(server.requests.length, 1);
    // A day later it asks again.
    assert.match(await runWithNotice({ ...base, now: day0 + 25 * 3600_000 }), /9\.9\.9/);
    assert.equal(server.requests.length, 2);

    // Turned off in the config: no request even when due.
    await Deno.mkdir(`${home}/.datumctl`, { recursive: true });
    await Deno.writeTextFile(`${home}/.datumctl/config`, "update-check: false\n");
    assert.equal(await runWithNotice({ ...base, now: day0 + 50 * 3600_000 }), "");
    assert.equal(server.requests.length, 2);
  });
});

Deno.test("a slow release server does not hold the command, and the attempt still counts", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const home = await makeHome();
    server.delayMs = 3000;
    const now = Date.parse("2026-01-01T00:00:00Z");
    const notice = new UpdateNotice({
      version: "0.1.0",
      baseUrl: server.url,
      cacheDir: `${home}/.cache/datumctl`,
      now: () => now,
      budgetMs: 200,
    });
    notice.start();
    assert.equal(await notice.finish(), undefined);
    const record = JSON.parse(await Deno.readTextFile(updateCheckPath(`${home}/.cache/datumctl`)));
    assert.equal(record["checked-at"], "2026-01-01T00:00:00.000Z");
    assert.equal(record.latest, undefined);
  });
});

Deno.test("completion answers and `update` itself never carry the notice", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const home = await makeHome();
    const io = memoryIO(
      { HOME: home, XDG_CACHE_HOME: `${home}/.cache`, DATUMCTL_INSTALL_BASE_URL: server.url },
      true,
    );
    const program = new Command("datumctl").exitOverride();
    for (const name of ["complete", "completion", "update"]) program.command(name).action(() => {});
    program.command("tunnel").command("update").action(() => io.out("tunnel updated\n"));
    const env: UpdateEnvironment = {
      standalone: true,
      execPath: `${home}/.local/bin/datumctl`,
      fetch,
      now: () => Date.parse("2026-01-01T00:00:00Z"),
    };
    attachUpdateNotice(program, { io, version: "0.1.0" }, env);
    for (const name of ["complete", "completion", "update"]) {
      await program.parseAsync([name], { from: "user" });
    }
    assert.deepEqual(server.requests, []);
    // A subcommand that happens to be called `update` is an ordinary command.
    await program.parseAsync(["tunnel", "update"], { from: "user" });
    assert.deepEqual(server.requests, ["/VERSION"]);
    assert.match(io.stderr, /A new datumctl is available/);
  });
});
