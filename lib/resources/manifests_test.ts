import assert from "node:assert/strict";
import { loadManifests, MAX_MANIFEST_BYTES, parseManifests, readAllStdin } from "./manifests.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
import { memoryIO } from "../core/io.ts";

const TWO = `apiVersion: v1
kind: Namespace
metadata: {name: a}
---
# comment-only documents and empty ones are skipped
---
apiVersion: networking.datumapis.com/v1alpha1
kind: Connector
metadata:
  name: b
`;

Deno.test("parseManifests: multi-document YAML, JSON and Lists", () => {
  const two = parseManifests(TWO, "two.yaml");
  assert.deepEqual(two.map((m) => [m.object.kind, m.object.metadata?.name, m.document]), [
    ["Namespace", "a", 1],
    ["Connector", "b", 3],
  ]);
  const list = parseManifests(
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }],
    }),
    "list.json",
  );
  assert.equal(list.length, 1);
  assert.equal(list[0].object.metadata?.name, "x");
});

Deno.test("parseManifests: errors name the source and the line", () => {
  assert.throws(
    () => parseManifests("apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "bad.yaml"),
    (err: unknown) => err instanceof CliError && /bad\.yaml.*metadata\.name/.test(err.message),
  );
  assert.throws(
    () => parseManifests("a: [\n", "broken.yaml"),
    (err: unknown) => err instanceof CliError && /broken\.yaml \(line \d+\)/.test(err.message),
  );
  assert.throws(
    () => parseManifests("kind: X\nmetadata: {name: y}\n", "-"),
    (err: unknown) => err instanceof CliError && /stdin.*no apiVersion/.test(err.message),
  );
});

Deno.test("loadManifests: files, folders (sorted, manifest extensions only) and stdin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/b.yaml`, TWO);
    await Deno.writeTextFile(
      `${dir}/a.json`,
      '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"j"}}',
    );
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a manifest");
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(
      `${dir}/sub/c.yml`,
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: deep}\n",
    );
    const stdin = () => Promise.resolve("apiVersion: v1\nkind: Namespace\nmetadata: {name: s}\n");
    const flat = await loadManifests([dir, "-"], { readStdin: stdin });
    assert.deepEqual(flat.map((m) => m.object.metadata?.name), ["j", "a", "b", "s"]);
    const deep = await loadManifests([dir], { readStdin: stdin, recursive: true });
    assert.deepEqual(deep.map((m) => m.object.metadata?.name), ["j", "a", "b", "deep"]);
    await assert.rejects(loadManifests([`${dir}/missing.yaml`], { readStdin: stdin }), UsageError);
    await assert.rejects(loadManifests([], { readStdin: stdin }), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-f - reads the IO's stdin, and stops at the manifest cap", async () => {
  const io = memoryIO({}, false, "apiVersion: v1\nkind: Namespace\nmetadata: {name: piped}\n");
  const piped = await loadManifests(["-"], { readStdin: () => readAllStdin(io.stdin) });
  assert.deepEqual(piped.map((m) => m.object.metadata?.name), ["piped"]);
  const flood = memoryIO({}, false, "#".repeat(MAX_MANIFEST_BYTES + 1));
  await assert.rejects(
    readAllStdin(flood.stdin),
    (err: unknown) => err instanceof CliError && err.exitCode === ExitCode.dataError,
  );
});
