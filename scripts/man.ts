/**
 * `deno task man [--out DIR]`: writes a manual page per command (default `dist/man/*.1`),
 * generated from the command tree `main.ts` builds. Read one with `man -l dist/man/datumctl.1`.
 */
import { buildProgram, processContext } from "../main.ts";
import { memoryIO } from "../lib/core/io.ts";
import { renderManPages } from "../lib/ui/manpage.ts";
import denoJson from "../deno.json" with { type: "json" };

const outIndex = Deno.args.indexOf("--out");
const outDir = outIndex >= 0
  ? Deno.args[outIndex + 1]
  : new URL("../dist/man", import.meta.url).pathname;
if (!outDir) {
  console.error("error: --out needs a folder");
  Deno.exit(2);
}

// SOURCE_DATE_EPOCH keeps release pages reproducible; otherwise today's date.
const epoch = Deno.env.get("SOURCE_DATE_EPOCH");
const date = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().slice(0, 10);
const program = await buildProgram(processContext(memoryIO(), denoJson.version));
const pages = renderManPages(program, { version: denoJson.version, date });
await Deno.mkdir(outDir, { recursive: true });
for (const [name, text] of pages) await Deno.writeTextFile(`${outDir}/${name}`, text);
console.log(`${pages.size} manual pages written to ${outDir}`);
