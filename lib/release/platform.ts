/**
 * The platforms datumctl ships for, and the names of their release files.
 *
 * There is one row per `deno compile` target, plus the default releases URL. `scripts/compile.ts`,
 * the release workflow, `install.sh` and `datumctl update` all name files the same way, so a binary
 * built by one is found by the others: `datumctl-<os>-<arch>` (`.exe` on Windows), with `<os>` and
 * `<arch>` spelled as `Deno.build` spells them.
 */

/** An operating system as `Deno.build.os` names it (only the ones we ship). */
export type ReleaseOs = "linux" | "darwin" | "windows";
/** A CPU architecture as `Deno.build.arch` names it. */
export type ReleaseArch = "x86_64" | "aarch64";

/** One platform we build a binary for. */
export interface ReleaseTarget {
  /** The `deno compile --target` value (also the Rust target of the engine, bar Windows). */
  denoTarget: string;
  /** The Rust target triple the tunnel engine is built for. */
  rustTarget: string;
  os: ReleaseOs;
  arch: ReleaseArch;
}

/**
 * Every target `deno compile` 2.9.6 offers that we ship. There is no musl target: Deno builds
 * its runtime (`denort`) for glibc only, so the Linux binaries need glibc (see install.sh).
 */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  {
    denoTarget: "x86_64-unknown-linux-gnu",
    rustTarget: "x86_64-unknown-linux-gnu",
    os: "linux",
    arch: "x86_64",
  },
  {
    denoTarget: "aarch64-unknown-linux-gnu",
    rustTarget: "aarch64-unknown-linux-gnu",
    os: "linux",
    arch: "aarch64",
  },
  {
    denoTarget: "x86_64-apple-darwin",
    rustTarget: "x86_64-apple-darwin",
    os: "darwin",
    arch: "x86_64",
  },
  {
    denoTarget: "aarch64-apple-darwin",
    rustTarget: "aarch64-apple-darwin",
    os: "darwin",
    arch: "aarch64",
  },
  {
    denoTarget: "x86_64-pc-windows-msvc",
    rustTarget: "x86_64-pc-windows-msvc",
    os: "windows",
    arch: "x86_64",
  },
];

/** Where releases are published; `<base>/<asset>`, `<base>/SHA256SUMS`, `<base>/VERSION`. */
export const DEFAULT_RELEASES_URL =
  "https://github.com/datum-cloud/datumctl/releases/latest/download";

/** The environment variable that points installs and updates at another release folder. */
export const RELEASES_URL_ENV = "DATUMCTL_INSTALL_BASE_URL";

/** The checksum file published beside the binaries (GNU `sha256sum` format). */
export const SUMS_FILE = "SHA256SUMS";

/** The file published beside the binaries holding the release's version (e.g. `0.2.0`). */
export const VERSION_FILE = "VERSION";

/** The release file name for a platform: `datumctl-<os>-<arch>` (`.exe` on Windows). */
export function assetName(os: string, arch: string): string {
  return `datumctl-${os}-${arch}${os === "windows" ? ".exe" : ""}`;
}

/** The target for an os/arch pair, or `undefined` when we ship nothing for it. */
export function targetFor(os: string, arch: string): ReleaseTarget | undefined {
  return RELEASE_TARGETS.find((t) => t.os === os && t.arch === arch);
}

/** The release base URL from the environment, without a trailing slash. */
export function releasesUrl(env: (name: string) => string | undefined): string {
  const url = env(RELEASES_URL_ENV) || DEFAULT_RELEASES_URL;
  return url.replace(/\/+$/, "");
}
