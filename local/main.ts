/**
 * `deno task local`: runs the local Datum stack as one process until SIGINT/SIGTERM.
 *
 * When ready it prints exactly one JSON line on stdout
 * (`{"issuer":…,"api":…,"gateway":null,"gatewayEndpointId":null,"clientId":…,"apiBackend":"emulator","ca":null}`) and a banner with the login command on
 * stderr. See local/README.md for the flags, the admin API and the fault switches.
 */

import { type LocalStackOptions, startLocalStack } from "./stack.ts";

const USAGE = `Usage: deno task local [options]

Runs a local Datum stack: an OpenID provider and a control-plane emulator on 127.0.0.1.

Options:
  --port N                  OpenID provider port (default: a free port)
  --api-port N              control-plane emulator port (default: a free port)
  --auto-approve EMAIL      complete browser logins and device codes as EMAIL, no interaction
  --access-token-ttl SECS   access/ID token lifetime (default 3600)
  --device-code-ttl SECS    device code lifetime, expires_in (default 600)
  --lease-duration SECS     leaseDurationSeconds of connector Leases (default 30)
  --controller-delay-ms MS  simulated controller delay (default 300)
  --proxy-domain DOMAIN     domain of generated HTTPProxy hostnames (default datumproxy.localhost)
  --dns-ttl SECS            gateway keeps agent addresses this long, like the edge (default 0)
  --apiserver BACKEND       emulator (default) or kube: etcd and a real Kubernetes API server
                            per control plane (build it once with 'deno task apiserver')
  --tls                     serve the API over HTTPS with the stack's own CA (path: "ca")
  -h, --help                show this help

Seed users: alice@example.com, bob@example.com, carol@example.com.
`;

function parseArgs(args: string[]): LocalStackOptions {
  const opts: LocalStackOptions = {};
  const number = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) {
      fail(`${flag} needs a non-negative number`);
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].includes("=") ? args[i].split(/=(.*)/s, 2) : [args[i]];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--port":
        opts.port = number(flag, value());
        break;
      case "--api-port":
        opts.apiPort = number(flag, value());
        break;
      case "--auto-approve": {
        const email = value();
        if (!email) fail("--auto-approve needs an email");
        opts.autoApprove = email;
        break;
      }
      case "--access-token-ttl":
        opts.accessTokenTtlSeconds = number(flag, value());
        break;
      case "--device-code-ttl":
        opts.deviceCodeTtlSeconds = number(flag, value());
        break;
      case "--lease-duration":
        opts.leaseDurationSeconds = number(flag, value());
        break;
      case "--controller-delay-ms":
        opts.controllerDelayMs = number(flag, value());
        break;
      case "--proxy-domain":
        opts.proxyDomain = value();
        break;
      case "--dns-ttl":
        opts.dnsTtlSeconds = number(flag, value());
        break;
      case "--apiserver": {
        const backend = value();
        if (backend !== "emulator" && backend !== "kube") {
          fail("--apiserver takes emulator or kube");
        }
        opts.apiBackend = backend;
        break;
      }
      case "--tls":
        opts.tls = true;
        break;
      case "-h":
      case "--help":
        console.error(USAGE);
        Deno.exit(0);
        break;
      default:
        fail(`unknown option ${flag}`);
    }
  }
  return opts;
}

function fail(message: string): never {
  console.error(`error: ${message}\nhint: run 'deno task local --help' for the options`);
  Deno.exit(2);
}

const opts = parseArgs(Deno.args);

// Listen before announcing readiness, so a signal right after the ready line is handled.
let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await stack?.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);

try {
  stack = await startLocalStack(opts);
} catch (e) {
  console.error(`error: the local stack could not start: ${(e as Error).message}`);
  Deno.exit(1);
}
if (stopping) {
  await stack.stop();
  Deno.exit(0);
}

const info = stack.info();
console.log(JSON.stringify(info));
console.error(
  [
    "",
    "Local Datum stack is running",
    `  OpenID issuer:  ${info.issuer}`,
    `  API endpoint:   ${info.api} (${info.apiBackend})`,
    ...(info.ca ? [`  API CA:         ${info.ca}`] : []),
    `  Client id:      ${info.clientId}`,
    `  Tunnel gateway: ${info.gateway ?? "off (no tunnel engine; run 'deno task engine')"}`,
    ...(info.gatewayEndpointId ? [`  Gateway peer:   ${info.gatewayEndpointId}`] : []),
    `  Auto-approve:   ${opts.autoApprove ?? "off (log in on the provider's page by email)"}`,
    `  Users:          alice@example.com, bob@example.com, carol@example.com`,
    "",
    "Log in with:",
    `  ${
      info.ca ? `DENO_CERT=${info.ca} ` : ""
    }datumctl login --endpoint ${info.api} --auth-endpoint ${info.issuer} --client-id ${info.clientId} --no-browser`,
    "",
    `Admin API: ${info.api}/_local (see local/README.md). Press Ctrl+C to stop.`,
    "",
  ].join("\n"),
);
