/**
 * `deno task bench restart [--runs N] [--ttl SECS] [--json]`: how long a restarted tunnel takes
 * until its public URL answers again, on the local stack with its gateway emulating the edge's
 * iroh DNS TTL (default 30 s, as Datum's operator publishes it).
 *
 * One named tunnel (`tunnel listen --name bench`, datumctl from source) serves a small origin.
 * Measured, in one run:
 *   first start     a fresh start (no address cached anywhere): the reference
 *   same port       SIGTERM, then start again at once: the agent binds the UDP port it
 *                   remembered in endpoint.yml, so the gateway's cached answer is still right
 *   new port        the same, with endpoint.yml deleted first, so the agent binds a random port
 *                   as an agent that remembers nothing does: the gateway keeps dialing the old
 *                   one until its cached answer expires
 * Each restart is timed from the spawn of the new process to the first `200` through the
 * gateway (polled every 100 ms), and to the listener's own `ready` event. The two kinds of
 * restart alternate, `--runs` times each (default 3); the table shows medians and the ratio.
 * Before each new-port restart the bench lets the gateway's previous answer age past the TTL, so
 * the stop makes it look the agent up afresh, as in the case this bench was written for (a restart
 * right after a stop took ~30 s); otherwise the wait would depend on when the last lookup happened.
 */
import { startStack } from "../tests/support/stack.ts";
import {
  type Listener,
  loginHome,
  publicGet,
  startListener,
  startOrigin,
  tunnelEnv,
} from "../tests/support/tunnel.ts";

interface Sample {
  /** Spawn to the first 200 through the gateway. */
  publicMs: number;
  /** Spawn to the listener's `ready` event. */
  readyMs: number;
}

interface Row {
  name: string;
  what: string;
  samples: Sample[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(Deno.args[i + 1]);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`error: ${name} needs a non-negative number`);
    Deno.exit(2);
  }
  return value;
}

const json = Deno.args.includes("--json");
const runs = Math.max(1, Math.round(flag("--runs", 3)));
const ttlSeconds = flag("--ttl", 30);
const log = (line: string) => {
  if (!json) console.error(line);
};

const stack = await startStack({ autoApprove: "alice@example.com" });
const origin = startOrigin();
let current: Listener | undefined;
try {
  if (!stack.gateway) throw new Error("the local stack has no gateway (run 'deno task engine')");
  const gateway = stack.gateway;
  await stack.setSettings({ dnsTtlSeconds: ttlSeconds });
  const home = await loginHome(stack, "alice@example.com");
  const env = tunnelEnv(stack);
  const endpointFile = `${home}/.local/share/datumctl/connect/bench/projects/infra/endpoint.yml`;
  let hostname: string | undefined;

  /** Starts the listener and times it until the public URL answers and it says ready. */
  const start = async (): Promise<Sample> => {
    const spawned = performance.now();
    current = startListener(home, [String(origin.port), "--name", "bench", "-o", "json"], env);
    const listener = current;
    let readyMs: number | undefined;
    const ready = listener.waitForEvent((e) => e.type === "ready", 120_000).then((e) => {
      readyMs = performance.now() - spawned;
      hostname ??= e.hostnames[0];
    });
    ready.catch(() => {});
    while (!hostname) {
      await Promise.race([ready, new Promise((r) => setTimeout(r, 100))]);
    }
    let publicMs: number | undefined;
    while (publicMs === undefined) {
      const answer = await publicGet(gateway, hostname).catch(() => undefined);
      if (answer?.status === 200) publicMs = performance.now() - spawned;
      else await new Promise((r) => setTimeout(r, 100));
      if (performance.now() - spawned > 120_000) throw new Error("no answer within 120 s");
    }
    await ready;
    return { publicMs, readyMs: readyMs! };
  };
  const stop = async () => {
    current?.signal("SIGTERM");
    const code = await current?.exited();
    if (code !== 0) throw new Error(`the listener exited with ${code}:\n${current?.stderr()}`);
    current = undefined;
  };

  const rows: Row[] = [
    { name: "first start", what: "nothing cached (reference)", samples: [] },
    { name: "restart, same port", what: "endpoint.yml kept (datumctl)", samples: [] },
    { name: "restart, new port", what: "endpoint.yml deleted (the plan)", samples: [] },
  ];
  log(`first start (TTL emulation ${ttlSeconds}s) ...`);
  rows[0].samples.push(await start());
  // When the gateway last took a new answer (the one the next stop must find expired).
  let lookedUp = performance.now();
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1}/${runs}: restart on the same port ...`);
    await stop();
    rows[1].samples.push(await start());
    const settle = lookedUp + ttlSeconds * 1000 + 1000 - performance.now();
    if (settle > 0) {
      log(`  letting the gateway's cached answer expire (${Math.ceil(settle / 1000)} s) ...`);
      await new Promise((r) => setTimeout(r, settle));
    }
    log(`run ${i + 1}/${runs}: restart on a new port ...`);
    await stop();
    await Deno.remove(endpointFile);
    const sample = await start();
    rows[2].samples.push(sample);
    lookedUp = performance.now();
  }
  await stop();

  const medians = rows.map((r) => ({
    publicMs: median(r.samples.map((s) => s.publicMs)),
    readyMs: median(r.samples.map((s) => s.readyMs)),
  }));
  const ratio = medians[2].publicMs / medians[1].publicMs;
  if (json) {
    console.log(JSON.stringify({
      ttlSeconds,
      runs,
      rows: rows.map((r, i) => ({
        name: r.name,
        what: r.what,
        publicMs: r.samples.map((s) => Math.round(s.publicMs)),
        readyMs: r.samples.map((s) => Math.round(s.readyMs)),
        medianPublicMs: Math.round(medians[i].publicMs),
        medianReadyMs: Math.round(medians[i].readyMs),
      })),
      newPortOverSamePort: Math.round(ratio * 10) / 10,
    }));
  } else {
    const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
      `Restart to ready on the local stack, gateway emulating a ${ttlSeconds} s iroh DNS TTL (median of ${runs}; first start once)`,
      "",
      `${"".padEnd(20)}${"public 200".padStart(12)}${"ready event".padStart(13)}  samples (public)`,
      ...rows.map((r, i) =>
        `${r.name.padEnd(20)}${secs(medians[i].publicMs).padStart(12)}${
          secs(medians[i].readyMs).padStart(13)
        }  ${r.samples.map((s) => (s.publicMs / 1000).toFixed(2)).join(" ")}   ${r.what}`
      ),
      "",
      `new port / same port: ${ratio.toFixed(1)}x slower (public URL back)`,
    ];
    console.log(lines.join("\n"));
  }
} finally {
  current?.signal("SIGKILL");
  await current?.exited().catch(() => {});
  await origin.close();
  await stack.stop();
}
