import assert from "node:assert/strict";
import { rotatedLogPaths, RotatingLog } from "./rotating-log.ts";

Deno.test("RotatingLog keeps whole lines and at most `keep` files, oldest dropped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new RotatingLog(`${dir}/logs/tunnel.log`, { maxBytes: 20, keep: 3 });
    await log.open();
    for (let i = 0; i < 8; i++) log.write(`line-${i}-xxxxxx`); // 16 bytes each with newline
    log.close();
    const files = rotatedLogPaths(`${dir}/logs/tunnel.log`, 3);
    assert.deepEqual(files.map((f) => f.replace(dir, "")), [
      "/logs/tunnel.log.2",
      "/logs/tunnel.log.1",
      "/logs/tunnel.log",
    ]);
    const text = files.map((f) => Deno.readTextFileSync(f)).join("");
    assert.equal(text, "line-5-xxxxxx\nline-6-xxxxxx\nline-7-xxxxxx\n");
    assert.equal((await Deno.stat(`${dir}/logs`)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RotatingLog appends to an existing file across reopenings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const word of ["a", "b"]) {
      const log = new RotatingLog(`${dir}/t.log`);
      await log.open();
      log.write(word);
      log.close();
    }
    assert.equal(await Deno.readTextFile(`${dir}/t.log`), "a\nb\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
