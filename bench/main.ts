/**
 * `deno task bench <name> [args...]`: runs one benchmark, each a script beside this one.
 *
 *   startup   start-up time and peak memory of the hot commands, against a budget (bench/startup.ts)
 *   tunnel    tunnel throughput and latency against direct TCP (bench/tunnel.ts)
 *   restart   restart-to-ready with the edge's DNS TTL emulated (bench/restart.ts)
 *
 * Each runs as its own process, so a benchmark never measures the others' loaded modules.
 */

const BENCHES: Record<string, { file: string; what: string }> = {
  startup: { file: "startup.ts", what: "start-up time and peak memory of the hot commands" },
  tunnel: { file: "tunnel.ts", what: "tunnel throughput and latency against direct TCP" },
  restart: { file: "restart.ts", what: "restart-to-ready, same UDP port vs a new one (DNS TTL)" },
};

function usage(): string {
  const lines = Object.entries(BENCHES).map(([name, b]) => `  ${name.padEnd(10)}${b.what}`);
  return `usage: deno task bench <name> [args...]\n\n${lines.join("\n")}\n`;
}

const [name, ...rest] = Deno.args;
if (!name || name === "--help" || name === "-h") {
  console.log(usage());
  Deno.exit(name ? 0 : 2);
}
const bench = BENCHES[name];
if (!bench) {
  console.error(`error: unknown benchmark '${name}'\n\n${usage()}`);
  Deno.exit(2);
}
const script = new URL(bench.file, import.meta.url);
try {
  await Deno.stat(script);
} catch {
  console.error(`error: bench/${bench.file} does not exist yet`);
  Deno.exit(1);
}
const status = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", script.pathname, ...rest],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
Deno.exit(status.code);
