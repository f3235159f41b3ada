/**
 * The release workflow cannot run here (GitHub runners, denort downloads), so this checks it
 * against the plan it must carry out: every target of lib/release/platform.ts built, compiled
 * with scripts/compile.ts and smoke-tested on its own platform, then published with sums.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Command } from "commander";
import { assetName, RELEASE_TARGETS } from "../lib/release/platform.ts";
import { buildProgram } from "../main.ts";
import { memoryIO } from "../lib/ui/io.ts";

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
}
interface Job {
  needs?: string | string[];
  if?: string;
  "runs-on": string;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
  permissions?: Record<string, string>;
}

const workflow = parse(
  await Deno.readTextFile(new URL("../.github/workflows/release.yml", import.meta.url)),
) as { on: { push: { tags: string[] } }; env: Record<string, string>; jobs: Record<string, Job> };

function runs(job: Job): string {
  return job.steps.map((s) => s.run ?? "").join("\n");
}

Deno.test("the release runs on version tags with the Deno the project pins", () => {
  assert.deepEqual(workflow.on.push.tags, ["v*"]);
  assert.equal(workflow.env.DENO_VERSION, Deno.version.deno);
});

Deno.test("every target is built natively, compiled and smoke-tested on its own platform", () => {
  const wanted = RELEASE_TARGETS.map((t) => t.denoTarget).sort();
  for (const name of ["engine", "compile"]) {
    const targets = workflow.jobs[name].strategy!.matrix.include.map((e) => e.target).sort();
    assert.deepEqual(targets, wanted, `${name} matrix`);
  }
  const engineRunner = new Map(
    workflow.jobs.engine.strategy!.matrix.include.map((e) => [e.target, e.runner]),
  );
  for (const entry of workflow.jobs.compile.strategy!.matrix.include) {
    const target = RELEASE_TARGETS.find((t) => t.denoTarget === entry.target)!;
    assert.equal(entry.binary, assetName(target.os, target.arch));
    // The engine is built on the same kind of runner the binary is tested on.
    assert.equal(engineRunner.get(entry.target), entry.runner);
    const os = { linux: /ubuntu/, darwin: /macos/, windows: /windows/ }[target.os];
    assert.match(entry.runner, os, `${entry.target} runs on ${entry.runner}`);
    assert.equal(
      /arm/.test(entry.runner) || entry.runner === "macos-15",
      target.arch === "aarch64",
    );
  }
  assert.match(runs(workflow.jobs.engine), /deno task engine/);
  const compile = runs(workflow.jobs.compile);
  assert.match(
    compile,
    /deno task compile --target \$\{\{ matrix\.target \}\} --engine-dir artifacts\/engine/,
  );
  assert.match(compile, /--version/);
  assert.match(compile, /tunnel --help/);
  assert.match(compile, /tunnel self-test/);
  assert.equal(workflow.jobs.compile.needs, "engine");
});

Deno.test("publishing checks the tag, writes SHA256SUMS and VERSION, ships install.sh", () => {
  const publish = workflow.jobs.publish;
  assert.equal(publish.needs, "compile");
  assert.match(publish.if!, /refs\/tags\/v/);
  assert.equal(publish.permissions?.contents, "write");
  const script = runs(publish);
  assert.match(script, /sha256sum -c SHA256SUMS/);
  assert.match(script, /sha256sum datumctl-\* install\.sh > SHA256SUMS/);
  assert.match(script, /> release\/VERSION/);
  assert.match(script, /cp install\.sh release\/install\.sh/);
  assert.match(script, /deno task man/);
  assert.match(script, /gh release create "\$GITHUB_REF_NAME" release\/\*/);
  assert.match(script, new RegExp(`-eq ${RELEASE_TARGETS.length}\\b`));
});

Deno.test("the commands the smoke test runs exist: tunnel listen and the hidden self-test", () => {
  const program = buildProgram({ io: memoryIO(), version: "test" });
  const tunnel = program.commands.find((c) => c.name() === "tunnel") as Command | undefined;
  assert.ok(tunnel, "no tunnel group");
  const names = tunnel.commands.map((c) => c.name());
  assert.ok(names.includes("listen"));
  assert.ok(names.includes("self-test"));
});
