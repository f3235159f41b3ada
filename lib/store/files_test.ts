import assert from "node:assert/strict";
import {
  recoverLeftoverWrite,
  takeFileNotes,
  tightenDatumctlDir,
  writePrivateFile,
  writeTargetOf,
} from "./files.ts";

Deno.test("a write through a chain of links lands in the final target, even a missing one", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/repo`);
  await Deno.symlink("repo/middle", `${dir}/link`);
  await Deno.symlink(`${dir}/repo/real`, `${dir}/repo/middle`);
  assert.equal(await writeTargetOf(`${dir}/link`), `${dir}/repo/real`);
  await writePrivateFile(`${dir}/link`, "one");
  assert.ok((await Deno.lstat(`${dir}/link`)).isSymlink);
  assert.ok((await Deno.lstat(`${dir}/repo/middle`)).isSymlink);
  assert.equal(await Deno.readTextFile(`${dir}/repo/real`), "one");
  await writePrivateFile(`${dir}/link`, "two");
  assert.equal(await Deno.readTextFile(`${dir}/link`), "two");
  assert.equal((await Deno.stat(`${dir}/repo/real`)).mode! & 0o777, 0o600);
  assert.deepEqual([...Deno.readDirSync(`${dir}/repo`)].map((e) => e.name).sort(), [
    "middle",
    "real",
  ]);
});

Deno.test("a link loop is an error, not a hang", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.symlink(`${dir}/b`, `${dir}/a`);
  await Deno.symlink(`${dir}/a`, `${dir}/b`);
  await assert.rejects(() => writePrivateFile(`${dir}/a`, "x"), /too many levels/);
});

Deno.test("leftover temp files: the newest valid one newer than the file wins, the rest go", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/store.json`;
  await Deno.writeTextFile(path, '{"v": 1}');
  const old = new Date(Date.now() - 60_000);
  await Deno.utime(path, old, old);
  await Deno.writeTextFile(`${path}.tmp-1-aaaa`, '{"v": 2}');
  await Deno.writeTextFile(`${path}.tmp-2-bbbb`, '{"v": ');
  const older = new Date(Date.now() - 120_000);
  await Deno.writeTextFile(`${path}.tmp-3-cccc`, '{"v": 0}');
  await Deno.utime(`${path}.tmp-3-cccc`, older, older);
  await Deno.writeTextFile(`${dir}/other.tmp-4-dddd`, "not ours");
  const valid = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };
  const outcome = await recoverLeftoverWrite(path, valid);
  assert.equal(outcome.recovered, `${path}.tmp-1-aaaa`);
  assert.equal(outcome.removed.length, 2);
  assert.equal(await Deno.readTextFile(path), '{"v": 2}');
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "other.tmp-4-dddd",
    "store.json",
  ]);
  assert.deepEqual(await recoverLeftoverWrite(path, valid), { removed: [] });
});

Deno.test("only a folder named .datumctl is tightened, once, with a note", async () => {
  const home = await Deno.makeTempDir();
  const other = `${home}/shared`;
  await Deno.mkdir(other);
  await Deno.chmod(other, 0o755);
  await tightenDatumctlDir(other);
  assert.equal((await Deno.stat(other)).mode! & 0o777, 0o755);
  const dir = `${home}/.datumctl`;
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o750);
  takeFileNotes();
  await tightenDatumctlDir(dir);
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  const notes = takeFileNotes();
  assert.equal(notes.length, 1);
  assert.match(notes[0], /mode 0750\); changed it to 0700/);
  await tightenDatumctlDir(dir);
  assert.deepEqual(takeFileNotes(), []);
});
