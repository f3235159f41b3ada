import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram, processContext } from "../main.ts";
import { memoryIO } from "../lib/core/io.ts";
import { manPageName } from "../lib/ui/manpage.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Every visible command path, the root included. */
function commandPaths(cmd: Command, prefix = "datumctl"): string[] {
  const subs = cmd.createHelp().visibleCommands(cmd).filter((c) => c.name() !== "help");
  return [prefix, ...subs.flatMap((c) => commandPaths(c, `${prefix} ${c.name()}`))];
}

Deno.test("`deno task man` writes a page for every command, and groff reads each cleanly", async () => {
  const out = await Deno.makeTempDir({ prefix: "datumctl-man-" });
  try {
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/man.ts", "--out", out],
      cwd: ROOT,
      env: { SOURCE_DATE_EPOCH: "1767225600" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
    const paths = commandPaths(await buildProgram(processContext(memoryIO(), "test")));
    assert.ok(paths.includes("datumctl completion"));
    const written = new Set<string>();
    for await (const entry of Deno.readDir(out)) written.add(entry.name);
    assert.deepEqual([...written].sort(), paths.map(manPageName).sort());
    for (const path of paths) {
      const page = await Deno.readTextFile(`${out}/${manPageName(path)}`);
      assert.match(page, /^\.TH [A-Z-]+ 1 "2026-01-01" "datumctl /, path);
      assert.match(page, /\n\.SH SYNOPSIS\n/, path);
      // -ww: every warning; -z: no output, only the diagnostics.
      const groff = await new Deno.Command("groff", {
        args: ["-man", "-Tutf8", "-ww", "-z", `${out}/${manPageName(path)}`],
        stderr: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(groff.stderr), "", `groff warnings in ${path}`);
    }
    const completion = await Deno.readTextFile(`${out}/datumctl-completion.1`);
    assert.match(completion, /\.SH EXAMPLES\n/);
    assert.match(completion, /source <\(datumctl completion bash\)/);
    const root = await Deno.readTextFile(`${out}/datumctl.1`);
    assert.match(root, /\.SH EXIT CODES\n/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
