/**
 * The default scope a service-account key brings along: `DATUM_CREDENTIALS` names a key file
 * whose `project_id` is the project the service account works in, so CI needs no
 * `DATUM_PROJECT` beside it.
 */

/**
 * The `project_id` of the key file `DATUM_CREDENTIALS` names, when it has one (no
 * `DATUM_TOKEN`, which wins over it). A file that cannot be read or parsed gives undefined here:
 * reading the key for the token reports what is wrong with it.
 */
export function keyFileProject(env: (name: string) => string | undefined): string | undefined {
  if (env("DATUM_TOKEN")) return undefined;
  const path = env("DATUM_CREDENTIALS");
  if (!path) return undefined;
  try {
    // Key files are a few kilobytes; anything large is not one (and is refused later).
    if (Deno.statSync(path).size > 64 * 1024) return undefined;
    const key = JSON.parse(Deno.readTextFileSync(path));
    const project = key?.type === "datum_service_account" ? key.project_id : undefined;
    return typeof project === "string" && project.trim() ? project.trim() : undefined;
  } catch {
    return undefined;
  }
}
