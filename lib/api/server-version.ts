/**
 * The server's build, as `kubectl version` shows it: the Kubernetes-style `/version` document
 * every Datum control plane serves.
 *
 * The same report also says what this binary is built from.
 */
import type { ApiClient } from "./client.ts";
import { ApiError } from "./errors.ts";
import { CliError, ExitCode } from "../core/errors.ts";

/** The fields of `/version` datumctl shows (the server may send more; they are kept). */
export interface ServerVersion {
  gitVersion?: string;
  major?: string;
  minor?: string;
  platform?: string;
  [field: string]: unknown;
}

/** This binary's versions: datumctl itself, and the Deno runtime it runs on. */
export interface ClientVersion {
  datumctl: string;
  deno: string;
  v8: string;
  typescript: string;
  platform: string;
}

/** The client half of `datumctl version`. */
export function clientVersion(datumctl: string): ClientVersion {
  return {
    datumctl,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    platform: `${Deno.build.os}/${Deno.build.arch}`,
  };
}

/**
 * GETs `/version` of the client's base (the API root or a control plane). A server that does not
 * serve it is reported as such rather than as a missing resource.
 */
export async function fetchServerVersion(client: ApiClient): Promise<ServerVersion> {
  try {
    const answer = await client.get<unknown>("/version");
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
      throw new CliError("BAD_VERSION", `${client.url("/version")} did not answer a version`, {
        exitCode: ExitCode.dataError,
      });
    }
    return answer as ServerVersion;
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 404) {
      throw new CliError("NO_SERVER_VERSION", `${client.baseUrl} does not serve /version`, {
        hint: "The client version is printed with 'datumctl version' alone.",
        exitCode: ExitCode.unavailable,
      });
    }
    throw err;
  }
}
