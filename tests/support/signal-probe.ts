/**
 * A process that sends itself a stop signal while a write holds signals back, and reports
 * what its handler saw (for tests of lib/process/signals.ts):
 *
 *   deno run -A signal-probe.ts handler N   a registered handler; N signals during the hold
 *   deno run -A signal-probe.ts none        no handler: the held signal must end the process
 *
 * Prints `held <count>` when the write is done, `after <count>` a moment later, and (with a
 * handler) `again <count>` after one more signal outside the hold.
 */
import { onStopSignal, withSignalsDeferred } from "../../lib/process/signals.ts";

const [mode, times = "1"] = Deno.args;
let seen = 0;
if (mode === "handler") onStopSignal(() => seen++);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

await withSignalsDeferred(async () => {
  for (let i = 0; i < Number(times); i++) {
    Deno.kill(Deno.pid, "SIGINT");
    await pause(50);
  }
  await pause(200);
  console.log(`held ${seen}`);
});
await pause(300);
console.log(`after ${seen}`);
if (mode === "handler") {
  // Outside a hold, each signal reaches the handler at once.
  Deno.kill(Deno.pid, "SIGINT");
  await pause(200);
  console.log(`again ${seen}`);
}
Deno.exit(0);
