/**
 * Whether a browser on this machine can reach our loopback callback, judged from the environment:
 * `login` switches to the device flow (and says why) when there is a reason it cannot.
 */
import { pathExistsSync } from "../store/files.ts";

/** What {@link headlessReason} looks at; injectable for tests. */
export interface HeadlessProbe {
  env: (name: string) => string | undefined;
  os: string;
  exists: (path: string) => boolean;
}

/**
 * Why a local browser is unlikely to work here (an SSH session, a container, a Linux machine
 * without a display), or `undefined` when it should. An explicit `BROWSER` always wins: the user
 * told us how to open URLs.
 */
export function headlessReason(
  probe: Partial<HeadlessProbe> = {},
): string | undefined {
  const env = probe.env ?? Deno.env.get;
  const os = probe.os ?? Deno.build.os;
  const exists = probe.exists ?? pathExistsSync;
  if (env("BROWSER")) return undefined;
  if (env("SSH_CONNECTION") || env("SSH_TTY") || env("SSH_CLIENT")) return "this is an SSH session";
  if (os === "linux" || os === "freebsd") {
    if (exists("/.dockerenv") || exists("/run/.containerenv")) return "this is a container";
    if (!env("DISPLAY") && !env("WAYLAND_DISPLAY")) return "there is no display";
  }
  return undefined;
}
