/**
 * Self-update: find the latest release, download this platform's binary, check it against
 * `SHA256SUMS`, and swap it in for the running one atomically.
 *
 * A binary that a package manager installed is never touched, nor is a `deno run` from source: the
 * install kind says whether this binary may replace itself. What is read from the release folder is
 * size-capped, and the binary streams to disk and is never buffered whole.
 */
import semver from "semver";
import { CliError, ExitCode } from "../core/errors.ts";
import { assetName, SUMS_FILE, VERSION_FILE } from "./platform.ts";
import { parseSums } from "./checksums.ts";
import { copyLimited, readLimitedText } from "../http/capped-body.ts";

/** How the running datumctl was installed. */
export type InstallKind =
  | { kind: "source" }
  | { kind: "managed"; manager: string; path: string }
  | { kind: "standalone"; path: string };

/**
 * Folders package managers own, by the manager to name in the refusal. The path is the
 * binary's real path (symlinks resolved), so Homebrew's `/usr/local/bin` links land in its
 * Cellar.
 */
const MANAGED_PREFIXES: readonly [prefix: string, manager: string][] = [
  ["/usr/bin/", "your system package manager"],
  ["/usr/sbin/", "your system package manager"],
  ["/bin/", "your system package manager"],
  ["/sbin/", "your system package manager"],
  ["/usr/lib/", "your system package manager"],
  ["/usr/libexec/", "your system package manager"],
  ["/usr/share/", "your system package manager"],
  ["/opt/homebrew/", "Homebrew"],
  ["/usr/local/Cellar/", "Homebrew"],
  ["/usr/local/Homebrew/", "Homebrew"],
  ["/home/linuxbrew/", "Homebrew"],
  ["/nix/", "Nix"],
  ["/snap/", "snap"],
  ["/var/lib/flatpak/", "Flatpak"],
];

const MANAGED_WINDOWS_PARTS: readonly [part: string, manager: string][] = [
  ["\\scoop\\", "Scoop"],
  ["\\chocolatey\\", "Chocolatey"],
  ["\\winget\\", "WinGet"],
  ["\\windowsapps\\", "WinGet"],
];

/**
 * The marker a packager puts beside the binary (`<binary>.managed-by`, holding the manager's
 * name) when its install path is not one of the known folders.
 */
export function managedMarkerPath(binaryPath: string): string {
  return `${binaryPath}.managed-by`;
}

/** Decides whether `update` may replace the binary at `execPath`. */
export function installKind(
  execPath: string,
  standalone: boolean,
  readMarker: (path: string) => string | undefined,
): InstallKind {
  if (!standalone) return { kind: "source" };
  const marker = readMarker(managedMarkerPath(execPath));
  if (marker !== undefined) {
    return { kind: "managed", manager: marker.trim() || "a package manager", path: execPath };
  }
  const lower = execPath.toLowerCase();
  for (const [part, manager] of MANAGED_WINDOWS_PARTS) {
    if (lower.includes(part)) return { kind: "managed", manager, path: execPath };
  }
  for (const [prefix, manager] of MANAGED_PREFIXES) {
    if (execPath.startsWith(prefix)) return { kind: "managed", manager, path: execPath };
  }
  return { kind: "standalone", path: execPath };
}

/** The error `update` gives when it must not replace the binary. */
export function notSelfUpdatable(kind: Exclude<InstallKind, { kind: "standalone" }>): CliError {
  if (kind.kind === "source") {
    return new CliError(
      "UPDATE_FROM_SOURCE",
      "datumctl is running from source (deno run), so there is no binary to update.",
      { hint: "Update the checkout (git pull), or install a release binary with install.sh." },
    );
  }
  return new CliError(
    "UPDATE_MANAGED",
    `${kind.path} was installed by ${kind.manager}; datumctl will not replace it.`,
    {
      hint:
        `Update it with ${kind.manager}, or use \`datumctl update --check\` to see if one is due.`,
    },
  );
}

/**
 * Compares two versions (`1.2.3`, `v1.2.3`, `1.2.3-rc.1`, `1.2.3+build.5`) by semver's rules:
 * negative when `a` is older, a pre-release before its release, build metadata ignored.
 * Strings that are not versions compare as text.
 */
export function compareVersions(a: string, b: string): number {
  const va = semver.valid(a.trim());
  const vb = semver.valid(b.trim());
  if (!va || !vb) return a.localeCompare(b);
  return semver.compare(va, vb);
}

function unavailable(message: string, cause?: unknown): CliError {
  return new CliError("UPDATE_UNAVAILABLE", message, {
    hint: "Check the network, or point DATUMCTL_INSTALL_BASE_URL at a release folder.",
    exitCode: ExitCode.unavailable,
    retryable: true,
    cause,
  });
}

async function get(url: string, fetchFn: typeof fetch, signal?: AbortSignal): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url, { signal, headers: { "user-agent": "datumctl-update" } });
  } catch (err) {
    throw unavailable(`cannot reach ${url}: ${err instanceof Error ? err.message : err}`, err);
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status === 404) {
      throw new CliError("UPDATE_NOT_FOUND", `${url} does not exist (HTTP 404).`, {
        hint: "The release may not include this platform yet; see the releases page.",
      });
    }
    throw unavailable(`${url} answered HTTP ${res.status}.`);
  }
  return res;
}

/** The most read of `VERSION` (a version is a few bytes; anything longer is not one). */
export const MAX_VERSION_BYTES = 4 * 1024;
/** The most read of `SHA256SUMS` (one short line per platform). */
export const MAX_SUMS_BYTES = 64 * 1024;
/** The largest release binary datumctl downloads (they are well under 200 MiB). */
export const MAX_ASSET_BYTES = 512 * 1024 * 1024;

/** Reads `<base>/VERSION`: the version of the latest release, without a leading `v`. */
export async function fetchLatestVersion(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
  signal?: AbortSignal,
): Promise<string> {
  const url = `${baseUrl}/${VERSION_FILE}`;
  const text = (await readLimitedText(await get(url, fetchFn, signal), MAX_VERSION_BYTES, url))
    .trim();
  if (!semver.valid(text)) {
    throw new CliError(
      "UPDATE_BAD_VERSION",
      `${url} does not hold a version (got "${text.slice(0, 40)}").`,
      {
        exitCode: ExitCode.dataError,
      },
    );
  }
  return text.replace(/^v/, "");
}

/** A downloaded, verified release binary, not yet in place. */
export interface VerifiedDownload {
  asset: string;
  /** Where it was written (the `destination` given to {@link downloadVerified}). */
  path: string;
  sha256: string;
}

/** Where {@link downloadVerified} may write the new binary: beside the old one, so a rename swaps it. */
export function downloadPathFor(binaryPath: string): string {
  const suffix = Deno.build.os === "windows" ? ".exe" : "";
  return `${binaryPath}.update-${crypto.randomUUID().slice(0, 8)}${suffix}`;
}

/**
 * Downloads this platform's binary into the new file `destination`, hashing it as it streams
 * (it is never held in memory whole), and keeps it only if it matches the release's
 * `SHA256SUMS`; on any failure `destination` is removed. A binary larger than
 * `maxAssetBytes` (default {@link MAX_ASSET_BYTES}) is refused as bad data.
 */
export async function downloadVerified(
  baseUrl: string,
  platform: { os: string; arch: string },
  destination: string,
  fetchFn: typeof fetch = fetch,
  maxAssetBytes = MAX_ASSET_BYTES,
): Promise<VerifiedDownload> {
  const asset = assetName(platform.os, platform.arch);
  const sumsUrl = `${baseUrl}/${SUMS_FILE}`;
  const sums = parseSums(
    await readLimitedText(await get(sumsUrl, fetchFn), MAX_SUMS_BYTES, sumsUrl),
  );
  const expected = sums.get(asset);
  if (!expected) {
    throw new CliError("UPDATE_NOT_FOUND", `${SUMS_FILE} of the release lists no ${asset}.`, {
      hint: `datumctl is not released for ${platform.os}-${platform.arch}.`,
    });
  }
  const assetUrl = `${baseUrl}/${asset}`;
  const response = await get(assetUrl, fetchFn);
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(destination, { write: true, createNew: true, mode: 0o755 });
  } catch (err) {
    await response.body?.cancel().catch(() => {});
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
      throw cannotWrite(dirname(destination), err);
    }
    throw err;
  }
  try {
    try {
      await copyLimited(response, maxAssetBytes, async (chunk) => {
        hash.update(chunk);
        try {
          let written = 0;
          while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
        } catch (err) {
          throw new CliError(
            "UPDATE_FAILED",
            `could not write the download to ${destination}: ${
              err instanceof Error ? err.message : err
            }`,
            { hint: "Free some disk space and try again.", cause: err },
          );
        }
      }, assetUrl);
      await file.sync();
    } finally {
      file.close();
    }
    const actual = hash.digest("hex");
    if (actual !== expected) {
      throw new CliError(
        "UPDATE_CHECKSUM_MISMATCH",
        `the downloaded ${asset} does not match ${SUMS_FILE} (got ${actual}, want ${expected}); nothing was changed.`,
        {
          hint:
            "Try again later; if it persists, report it: the download may have been tampered with.",
        },
      );
    }
    return { asset, path: destination, sha256: actual };
  } catch (err) {
    await Deno.remove(destination).catch(() => {});
    if (err instanceof CliError) throw err;
    throw unavailable(
      `the download of ${assetUrl} failed: ${err instanceof Error ? err.message : err}`,
      err,
    );
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i <= 0 ? "." : path.slice(0, i);
}

function cannotWrite(dir: string, cause: unknown): CliError {
  return new CliError(
    "UPDATE_NOT_WRITABLE",
    `cannot write to ${dir}, where datumctl is installed.`,
    {
      hint:
        "Reinstall into a folder you own (install.sh --prefix ~/.local), then update from there.",
      exitCode: ExitCode.noPermission,
      cause,
    },
  );
}

/**
 * Checks that the downloaded binary at `downloadedPath` (beside `binaryPath`, see
 * {@link downloadPathFor}) runs and reports `version`, then renames it over the old one, so the
 * path always holds a whole, working binary; on failure the download is removed. On Windows,
 * where a running program cannot be overwritten, the old one is moved to `<path>.old` first
 * (removed by the next update).
 */
export async function replaceBinary(
  binaryPath: string,
  downloadedPath: string,
  version: string,
): Promise<void> {
  const dir = dirname(binaryPath);
  const windows = Deno.build.os === "windows";
  const tmp = downloadedPath;
  try {
    if (!windows) await Deno.chmod(tmp, 0o755);
    const out = await new Deno.Command(tmp, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { DATUMCTL_NO_UPDATE_CHECK: "1" },
      signal: AbortSignal.timeout(30_000),
    }).output();
    const printed = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || printed !== `datumctl ${version}`) {
      throw new CliError(
        "UPDATE_BROKEN_DOWNLOAD",
        `the new binary did not start as datumctl ${version} (exit ${out.code}${
          printed ? `, printed "${printed.slice(0, 60)}"` : ""
        }); nothing was changed.`,
        { hint: "Report this with your platform (uname -sm)." },
      );
    }
    if (windows) {
      await Deno.remove(`${binaryPath}.old`).catch(() => {});
      await Deno.rename(binaryPath, `${binaryPath}.old`);
    }
    await Deno.rename(tmp, binaryPath);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    if (err instanceof Deno.errors.PermissionDenied) throw cannotWrite(dir, err);
    if (err instanceof CliError) throw err;
    throw new CliError(
      "UPDATE_FAILED",
      `could not replace ${binaryPath}: ${err instanceof Error ? err.message : err}`,
      {
        cause: err,
      },
    );
  }
}
