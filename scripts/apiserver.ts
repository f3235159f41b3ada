/**
 * `deno task apiserver`: builds the real Kubernetes API server the local stack runs with
 * `--apiserver kube` (k8s.io/apiextensions-apiserver, with `go install`) into the per-machine
 * cache, unless it is there already.
 *
 *   deno task apiserver [--force]
 */
import { apiServerBinary, buildApiServer, findApiServer } from "../local/kube/apiserver.ts";

if (!Deno.args.includes("--force") && await findApiServer()) {
  console.error(`API server already built: ${apiServerBinary()}`);
} else {
  console.error(`building the API server into ${apiServerBinary()} (minutes on a cold Go cache)`);
  try {
    console.error(`built ${await buildApiServer()}`);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
