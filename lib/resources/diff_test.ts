import assert from "node:assert/strict";
import { CliError } from "../core/errors.ts";
import { comparableObject, externalDiff, unifiedDiff } from "./diff.ts";

function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = a[i - 1] === b[j - 1]
        ? dp[i - 1][j - 1] + 1
        : Math.max(dp[i - 1][j], dp[i][j - 1]);
    }
  }
  return dp[a.length][b.length];
}

/** Rebuilds both sides from a diff with unlimited context. */
function sides(diff: string): { from: string[]; to: string[]; changes: number } {
  const from: string[] = [];
  const to: string[] = [];
  let changes = 0;
  for (const line of diff.split("\n").slice(2)) {
    if (line.startsWith("@@") || line === "") continue;
    const body = line.slice(1);
    if (line[0] === " ") {
      from.push(body);
      to.push(body);
    } else if (line[0] === "-") {
      from.push(body);
      changes++;
    } else {
      to.push(body);
      changes++;
    }
  }
  return { from, to, changes };
}

Deno.test("unifiedDiff: equal texts give nothing", () => {
  assert.equal(unifiedDiff("a\nb\n", "a\nb\n", { from: "x", to: "y" }), "");
});

Deno.test("unifiedDiff: hunk header and context", () => {
  const before = ["a", "b", "c", "d", "e", "f", "g", "h"].join("\n") + "\n";
  const after = ["a", "b", "c", "d", "E", "f", "g", "h"].join("\n") + "\n";
  assert.equal(
    unifiedDiff(before, after, { from: "LIVE/x", to: "MERGED/x" }),
    "--- LIVE/x\n+++ MERGED/x\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n",
  );
  assert.equal(
    unifiedDiff("", "a\n", { from: "a", to: "b" }),
    "--- a\n+++ b\n@@ -0,0 +1 @@\n+a\n",
  );
});

const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");

Deno.test("unifiedDiff: minimal and faithful on random inputs", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const a = Array.from({ length: rand(12) }, () => "xyz"[rand(3)]);
    const b = Array.from({ length: rand(12) }, () => "xyz"[rand(3)]);
    const diff = unifiedDiff(text(a), text(b), { from: "a", to: "b" }, 1000);
    const equal = a.join() === b.join();
    if (equal) {
      assert.equal(diff, "");
      continue;
    }
    const got = sides(diff);
    assert.deepEqual(got.from, a);
    assert.deepEqual(got.to, b);
    assert.equal(got.changes, a.length + b.length - 2 * lcs(a, b));
  }
});

Deno.test("comparableObject drops write noise only", () => {
  const object = {
    kind: "Connector",
    metadata: {
      name: "c",
      resourceVersion: "7",
      generation: 2,
      managedFields: [{}],
      labels: { a: "b" },
    },
    spec: { x: 1 },
  };
  assert.deepEqual(comparableObject(object), {
    kind: "Connector",
    metadata: { name: "c", labels: { a: "b" } },
    spec: { x: 1 },
  });
  assert.equal(object.metadata.resourceVersion, "7");
});

Deno.test("externalDiff runs the program on LIVE and MERGED folders and returns its answer", async () => {
  const results = [
    { fileName: "a.yaml", liveYaml: "x: 1\n", mergedYaml: "x: 2\n" },
    { fileName: "b.yaml", liveYaml: "y: 1\n", mergedYaml: "y: 1\n" },
  ];
  const differs = await externalDiff("diff -r", results);
  assert.equal(differs.code, 1);
  assert.match(differs.stdout, /\/LIVE\/a\.yaml \S+\/MERGED\/a\.yaml\n/);
  assert.match(differs.stdout, /^< x: 1$/m);
  assert.match(differs.stdout, /^> x: 2$/m);
  assert.doesNotMatch(differs.stdout, /b\.yaml/);
  assert.deepEqual(await externalDiff("diff -r", results.slice(1)), { code: 0, stdout: "" });
  await assert.rejects(
    externalDiff("datumctl-no-such-diff-program", results),
    (err) => err instanceof CliError && err.code === "DIFF_FAILED" && err.exitCode === 2,
  );
});

Deno.test("unifiedDiff: a missing final newline is a difference, marked as diff -u marks it", () => {
  const diff = unifiedDiff("a\nb\n", "a\nb", { from: "LIVE/x", to: "MERGED/x" });
  assert.equal(
    diff,
    "--- LIVE/x\n+++ MERGED/x\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
  );
  // An empty side starts before line 1, as GNU diff writes it.
  assert.equal(
    unifiedDiff("", "a\n", { from: "LIVE/x", to: "MERGED/x" }),
    "--- LIVE/x\n+++ MERGED/x\n@@ -0,0 +1 @@\n+a\n",
  );
});
