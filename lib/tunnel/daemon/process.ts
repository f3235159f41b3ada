/**
 * Is the process a PID file names still the one that wrote it? A PID alone can be reused after a
 * crash or reboot, so the file also records the process's start time, and a PID whose start time
 * differs counts as gone.
 */

/**
 * An opaque token of when process `pid` started (Linux: its start time in clock ticks since
 * boot; elsewhere `ps`'s start time), or `undefined` when no such process exists.
 */
export async function processStartToken(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (Deno.build.os === "linux") {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      // Field 2 (comm) may contain spaces and parentheses: count fields after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      if (state === "Z" || state === "X") return undefined; // a zombie has finished
      return fields[19];
    } catch {
      return undefined;
    }
  }
  const probe = Deno.build.os === "windows"
    ? ["powershell", "-NoProfile", "-Command", `(Get-Process -Id ${pid}).StartTime.Ticks`]
    : ["ps", "-o", "lstart=", "-p", String(pid)];
  try {
    const out = await new Deno.Command(probe[0], {
      args: probe.slice(1),
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text ? text : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and started at `startToken` (the token recorded with it). */
export async function isSameProcessAlive(pid: number, startToken: string): Promise<boolean> {
  const now = await processStartToken(pid);
  return now !== undefined && now === startToken;
}
