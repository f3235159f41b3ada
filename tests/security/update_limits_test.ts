/**
 * `datumctl update` reads what a release folder serves within caps: `VERSION` (4 KiB) and
 * `SHA256SUMS` (64 KiB) are read with a ceiling, and the binary streams to a file beside the
 * old one (hashed on the way, never held in memory whole) up to 512 MiB. A larger answer is bad
 * data (exit 65) with one clear sentence; reading stops at the cap, and nothing is left behind or
 * replaced. (Each of them used to be read whole, however large.)
 */
import assert from "node:assert/strict";
import { downloadPathFor, downloadVerified, MAX_ASSET_BYTES } from "../../lib/release/update.ts";
import { CliError, ExitCode } from "../../lib/core/errors.ts";
import { fakeBinary, type ReleaseServer, withFakeRelease } from "../support/release-server.ts";
import { makeHome, runCli } from "../support/cli.ts";

const LINUX = { os: "linux", arch: "x86_64" };
const CHUNK = 64 * 1024;

/**
 * A body of `total` bytes of `fill`, made as it is read (never held whole); `served()` tells how
 * much the client actually pulled.
 */
function endlessBody(total: number, fill: number) {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(CHUNK).fill(fill));
      sent += CHUNK;
    },
  });
  return { stream, served: () => sent };
}

async function installedBinary(version: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "datumctl-bin-" });
  const path = `${dir}/datumctl`;
  await Deno.writeTextFile(path, fakeBinary(version), { mode: 0o755 });
  return path;
}

async function folderEntries(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path.slice(0, path.lastIndexOf("/")))) names.push(e.name);
  return names.sort();
}

function tooLarge(pattern: RegExp) {
  return (err: CliError) => {
    assert.ok(err instanceof CliError, String(err));
    assert.equal(err.code, "RESPONSE_TOO_LARGE");
    assert.equal(err.exitCode, ExitCode.dataError);
    assert.match(err.message, pattern);
    return true;
  };
}

Deno.test("update --check refuses a VERSION larger than 4 KiB (exit 65) and stops reading it", async () => {
  await withFakeRelease("9.9.9", async (server: ReleaseServer) => {
    const body = endlessBody(64 * 1024 * 1024, 0x39);
    server.answer("/VERSION", () => new Response(body.stream));
    const res = await runCli(["update", "--check"], {
      home: await makeHome(),
      env: { DATUMCTL_INSTALL_BASE_URL: server.url },
    });
    assert.equal(res.code, 65, res.stderr);
    assert.match(
      res.stderr,
      /^error: http:\/\/127\.0\.0\.1:\d+\/VERSION is larger than 4 KiB, so it was not read\n/,
    );
    assert.doesNotMatch(res.stderr, /bug in datumctl|\n\s+at /);
    assert.ok(body.served() < 16 * 1024 * 1024, `read ${body.served()} bytes of VERSION`);
  });
});

Deno.test("a SHA256SUMS larger than 64 KiB is refused before any download", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const path = await installedBinary("0.1.0");
    const body = endlessBody(64 * 1024 * 1024, 0x20);
    server.answer("/SHA256SUMS", () => new Response(body.stream));
    await assert.rejects(
      () => downloadVerified(server.url, LINUX, downloadPathFor(path)),
      tooLarge(/\/SHA256SUMS is larger than 64 KiB, so it was not read/),
    );
    assert.ok(body.served() < 16 * 1024 * 1024, `read ${body.served()} bytes of SHA256SUMS`);
    assert.ok(!server.requests.includes("/datumctl-linux-x86_64"), "the binary was not asked for");
    assert.deepEqual(await folderEntries(path), ["datumctl"]);
  });
});

Deno.test("a binary that declares more than 512 MiB is refused without reading it", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const path = await installedBinary("0.1.0");
    const body = endlessBody(MAX_ASSET_BYTES + CHUNK, 0);
    server.answer(
      "/datumctl-linux-x86_64",
      () =>
        new Response(body.stream, {
          headers: { "content-length": String(MAX_ASSET_BYTES + CHUNK) },
        }),
    );
    await assert.rejects(
      () => downloadVerified(server.url, LINUX, downloadPathFor(path)),
      tooLarge(/\/datumctl-linux-x86_64 is larger than 512 MiB, so it was not read/),
    );
    assert.ok(body.served() < 16 * 1024 * 1024, `read ${body.served()} bytes of the binary`);
    assert.deepEqual(await folderEntries(path), ["datumctl"], "no download is left behind");
  });
});

Deno.test("a binary that streams past the cap is cut off there; the old one stays", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const path = await installedBinary("0.1.0");
    const body = endlessBody(64 * 1024 * 1024, 0);
    server.answer("/datumctl-linux-x86_64", () => new Response(body.stream));
    const destination = downloadPathFor(path);
    await assert.rejects(
      () => downloadVerified(server.url, LINUX, destination, fetch, 1024 * 1024),
      tooLarge(/\/datumctl-linux-x86_64 is larger than 1 MiB, so it was not read/),
    );
    assert.ok(body.served() < 16 * 1024 * 1024, `read ${body.served()} bytes of the binary`);
    assert.deepEqual(await folderEntries(path), ["datumctl"], "the partial download is removed");
    const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped" }).output();
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "datumctl 0.1.0");
  });
});

Deno.test("a binary within the cap streams to the file beside the old one", async () => {
  await withFakeRelease("9.9.9", async (server) => {
    const path = await installedBinary("0.1.0");
    const destination = downloadPathFor(path);
    const download = await downloadVerified(server.url, LINUX, destination, fetch, 1024 * 1024);
    assert.equal(download.path, destination);
    assert.equal(await Deno.readTextFile(destination), fakeBinary("9.9.9"));
    assert.equal((await Deno.stat(destination)).mode! & 0o777, 0o755);
  });
});
