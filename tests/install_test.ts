import assert from "node:assert/strict";
import { withFakeRelease } from "./support/release-server.ts";
import { assetName } from "../lib/release/platform.ts";

const INSTALL_SH = new URL("../install.sh", import.meta.url).pathname;
const dec = new TextDecoder();

interface InstallRun {
  code: number;
  stdout: string;
  stderr: string;
  home: string;
}

/**
 * Runs install.sh under dash (a strict POSIX shell) with its own HOME. `uname` fakes what
 * `uname -s` / `uname -m` print, through a stand-in earlier on PATH.
 */
async function install(
  baseUrl: string,
  opts: { args?: string[]; uname?: [string, string]; env?: Record<string, string> } = {},
): Promise<InstallRun> {
  const home = await Deno.makeTempDir({ prefix: "datumctl-install-home-" });
  let path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  if (opts.uname) {
    const fake = `${home}/fake-bin`;
    await Deno.mkdir(fake);
    const [s, m] = opts.uname;
    await Deno.writeTextFile(
      `${fake}/uname`,
      `#!/bin/sh\ncase "$1" in -m) echo '${m}' ;; *) echo '${s}' ;; esac\n`,
      { mode: 0o755 },
    );
    path = `${fake}:${path}`;
  }
  const out = await new Deno.Command("dash", {
    args: [INSTALL_SH, ...(opts.args ?? [])],
    clearEnv: true,
    env: { HOME: home, PATH: path, DATUMCTL_INSTALL_BASE_URL: baseUrl, ...opts.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), home };
}

async function versionOf(binary: string): Promise<string> {
  const out = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" }).output();
  return dec.decode(out.stdout).trim();
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("install.sh verifies and installs the binary for this machine into ~/.local/bin", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    // The real uname: the binary picked is the one for the platform this test runs on.
    const res = await install(server.url);
    assert.equal(res.code, 0, res.stderr);
    const target = `${res.home}/.local/bin/datumctl`;
    assert.equal(await versionOf(target), "datumctl 9.9.9");
    assert.equal((await Deno.stat(target)).mode! & 0o777, 0o755);
    const asset = assetName(Deno.build.os, Deno.build.arch);
    assert.deepEqual(server.requests, ["/SHA256SUMS", `/${asset}`]);
    assert.match(res.stdout, /Checksum verified/);
    assert.match(res.stdout, new RegExp(`Installed datumctl 9\\.9\\.9 to ${target}`));
    assert.match(res.stdout, /is not on your PATH/);
    // Nothing but the binary is left in the folder.
    const names = [];
    for await (const e of Deno.readDir(`${res.home}/.local/bin`)) names.push(e.name);
    assert.deepEqual(names, ["datumctl"]);
  });
});

Deno.test("install.sh maps uname names to release names (arm64 Mac, aarch64 Linux)", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const mac = await install(server.url, { uname: ["Darwin", "arm64"] });
    assert.equal(mac.code, 0, mac.stderr);
    const linux = await install(server.url, { uname: ["Linux", "aarch64"] });
    assert.equal(linux.code, 0, linux.stderr);
    assert.deepEqual(server.requests.filter((r) => r !== "/SHA256SUMS"), [
      "/datumctl-darwin-aarch64",
      "/datumctl-linux-aarch64",
    ]);
  });
});

Deno.test("install.sh honours --prefix and DATUMCTL_INSTALL_DIR, and replaces an old binary", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const prefix = await Deno.makeTempDir();
    const res = await install(server.url, {
      args: ["--prefix", prefix],
      uname: ["Linux", "x86_64"],
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await versionOf(`${prefix}/bin/datumctl`), "datumctl 9.9.9");

    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/datumctl`, "#!/bin/sh\necho 'datumctl 0.0.1'\n", {
      mode: 0o755,
    });
    const env = await install(server.url, {
      env: { DATUMCTL_INSTALL_DIR: dir, PATH: `${dir}:${Deno.env.get("PATH")}` },
      uname: ["Linux", "x86_64"],
    });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(await versionOf(`${dir}/datumctl`), "datumctl 9.9.9");
    assert.doesNotMatch(env.stdout, /not on your PATH/);
  });
});

Deno.test("install.sh refuses a binary whose checksum does not match", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const res = await install(server.url, { uname: ["Linux", "x86_64"] });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^error: checksum mismatch for datumctl-linux-x86_64: /);
    assert.match(res.stderr, /Nothing was installed\./);
    assert.equal(await exists(`${res.home}/.local/bin/datumctl`), false);
  }, { tamper: "datumctl-linux-x86_64" });
});

Deno.test("install.sh names an unsupported platform and downloads nothing", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const bsd = await install(server.url, { uname: ["FreeBSD", "amd64"] });
    assert.equal(bsd.code, 1);
    assert.match(bsd.stderr, /^error: datumctl has no release for FreeBSD on amd64\./);
    assert.match(bsd.stderr, /Releases exist for Linux and macOS on x86_64 or arm64/);
    const riscv = await install(server.url, { uname: ["Linux", "riscv64"] });
    assert.equal(riscv.code, 1);
    assert.match(riscv.stderr, /no release for Linux on riscv64/);
    assert.deepEqual(server.requests, []);
  });
});

Deno.test("install.sh says what is wrong when the release folder is unreachable", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const res = await install(`${server.url}/no-such-release`, { uname: ["Linux", "x86_64"] });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /could not download .*\/no-such-release\/SHA256SUMS/);
  });
});
