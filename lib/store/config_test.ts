import assert from "node:assert/strict";
import { loadConfig, updateConfig } from "./config.ts";
import { CliError } from "../core/errors.ts";

Deno.test("a config that does not parse names the file and line and is left untouched", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  const broken = "sessions:\n  - name: a\n   bad: [\n";
  await Deno.writeTextFile(path, broken);
  await assert.rejects(() => loadConfig(path), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.match(err.message, new RegExp(`${path}.*line \\d+`));
    return true;
  });
  await assert.rejects(() => updateConfig((c) => c.sessions.push({} as never), path));
  assert.equal(await Deno.readTextFile(path), broken);
});

Deno.test("concurrent updates never lose a write", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config`;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      updateConfig((c) => {
        c.contexts.push({ name: `s/ctx-${i}`, session: "s" });
      }, path)),
  );
  const config = await loadConfig(path);
  assert.equal(config.contexts.length, 20);
  const mode = (await Deno.stat(path)).mode! & 0o777;
  assert.equal(mode, 0o600);
});
