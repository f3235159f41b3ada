/**
 * How `tunnel inspect --name N` finds the inspector of a running named tunnel: the tunnel's
 * process writes `inspector.json` (the address and the session's URL with its token) into the
 * tunnel's own folder, 0600 in a 0700 folder like its `listen_key`, and removes it when it stops.
 *
 * A file was chosen over a unix socket because the browser needs the TCP address anyway, the
 * folder's permissions already guard the tunnel's secret key, and it works the same on every
 * platform datumctl runs on.
 */
import { readTextIfExists, writePrivateFile } from "../../store/files.ts";
import { CliError, ExitCode } from "../../core/errors.ts";

/** `inspector.json`. */
export interface InspectorRecord {
  /** `http://127.0.0.1:4040`. */
  address: string;
  /** The address with the session token. */
  url: string;
  pid: number;
  started_at: string;
}

/** `<tunnel folder>/inspector.json`. */
export function inspectorRecordPath(dir: string): string {
  return `${dir}/inspector.json`;
}

/** Writes this process's inspector record into the tunnel folder `dir`. */
export async function writeInspectorRecord(
  dir: string,
  inspector: { address: string; url: string },
): Promise<void> {
  const record: InspectorRecord = {
    address: inspector.address,
    url: inspector.url,
    pid: Deno.pid,
    started_at: new Date().toISOString(),
  };
  await writePrivateFile(inspectorRecordPath(dir), JSON.stringify(record) + "\n");
}

/** Removes the record when it is this process's. */
export async function removeInspectorRecord(dir: string): Promise<void> {
  const current = await readInspectorRecord(dir).catch(() => undefined);
  if (current?.pid === Deno.pid) await Deno.remove(inspectorRecordPath(dir)).catch(() => {});
}

/** The record in `dir`, or `undefined` when there is none. */
export async function readInspectorRecord(dir: string): Promise<InspectorRecord | undefined> {
  const path = inspectorRecordPath(dir);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as InspectorRecord;
    if (typeof value.url !== "string" || typeof value.pid !== "number") throw new Error();
    return value;
  } catch {
    throw new CliError("INSPECTOR_RECORD_INVALID", `cannot read ${path}: it is not JSON`, {
      hint: "Remove it; the tunnel's process writes it again when it starts with --inspect.",
      exitCode: ExitCode.dataError,
    });
  }
}
