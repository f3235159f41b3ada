import assert from "node:assert/strict";
import { followLog, readLogTail } from "./log-reader.ts";
import { RotatingLog } from "./rotating-log.ts";

Deno.test("followLog sees appended lines across a rotation, and readLogTail spans the files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/tunnel.log`;
    const log = new RotatingLog(path, { maxBytes: 30, keep: 3 });
    await log.open();
    log.write("before-follow");
    const seen: string[] = [];
    const stop = new AbortController();
    const following = followLog(path, (l) => seen.push(l), stop.signal, 20);
    await new Promise((r) => setTimeout(r, 80));
    for (const word of ["one-xxxxxxxxxx", "two-xxxxxxxxxx", "three-xxxxxxxx"]) {
      log.write(word);
      await new Promise((r) => setTimeout(r, 80));
    }
    stop.abort();
    await following;
    log.close();
    assert.deepEqual(seen, ["one-xxxxxxxxxx", "two-xxxxxxxxxx", "three-xxxxxxxx"]);
    assert.deepEqual(await readLogTail(path, 2), ["two-xxxxxxxxxx", "three-xxxxxxxx"]);
    assert.deepEqual((await readLogTail(path)).length, 4, "the rotated file is read too");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
