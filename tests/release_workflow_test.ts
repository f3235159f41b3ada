/**
 * The release workflow cannot run here (GitHub runners, denort downloads), so this checks it
 * against the plan it must carry out: every target of lib/release/platform.ts built, compiled
 * with scripts/compile.ts and smoke-tested on its own platform, then published with sums.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import type { Command } from "commander";
import { assetName, RELEASE_TARGETS } from "../lib/release/platform.ts";
import { buildProgram, processContext } from "../main.ts";
import { memoryIO } from "../lib/core/io.ts";

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

Deno.test("the commands the smoke test runs exist: tunnel listen and the hidden self-test", async () => {
  const program = await buildProgram(processContext(memoryIO(), "test"));
  const tunnel = program.commands.find((c) => c.name() === "tunnel") as Command | undefined;
  assert.ok(tunnel, "no tunnel group");
  const names = tunnel.commands.map((c) => c.name());
  assert.ok(names.includes("listen"));
  assert.ok(names.includes("self-test"));
});

/** The compile job's step that times the binary's start-up. */
function startupStep(): Step {
  const step = workflow.jobs.compile.steps.find((s) => /bench startup/.test(s.run ?? ""));
  assert.ok(step, "no start-up smoke step in the compile job");
  return step;
}

Deno.test("the smoke test times the binary's start-up against an empty program compiled beside it", () => {
  const steps = workflow.jobs.compile.steps;
  const step = startupStep();
  const run = step.run!;
  // The empty program is compiled in the same job, for the same runner, before the timing.
  const empty = run.match(/deno compile --output "([^"]+)" "?([^"\s]+)"?/);
  assert.ok(empty, "the step compiles an empty program");
  assert.match(run, /: > "\$RUNNER_TEMP\/empty\.ts"|echo "" > "\$RUNNER_TEMP\/empty\.ts"/);
  assert.ok(steps.indexOf(step) > steps.findIndex((s) => /deno task compile/.test(s.run ?? "")));
  // The bench runs the compiled datumctl and that empty program, fails above 3×, and prints.
  assert.match(run, /deno task bench startup --binary "\$smoke\/\$\{\{ matrix\.binary \}\}"/);
  assert.ok(run.includes(`--baseline-binary "${empty[1]}"`), "the baseline is the empty program");
  assert.match(run, /--wall-budget 3\b/);
  assert.match(run, /--check\b/);
  assert.match(run, /--no-stack\b/);
  assert.equal(step.if, undefined, "runs on every platform");
});

Deno.test("the bench accepts the smoke test's flags and prints the same figures for binaries", async () => {
  // Stand-ins for the two compiled programs (no denort here): scripts that exec deno.
  const dir = await Deno.makeTempDir({ prefix: "datumctl-bench-binary-" });
  try {
    const main = new URL("../main.ts", import.meta.url).pathname;
    const deno = Deno.execPath();
    await Deno.writeTextFile(`${dir}/empty.ts`, "");
    await Deno.writeTextFile(
      `${dir}/datumctl`,
      `#!/bin/sh\nexec "${deno}" run -A --quiet "${main}" "$@"\n`,
    );
    await Deno.writeTextFile(
      `${dir}/empty`,
      `#!/bin/sh\nexec "${deno}" run --quiet "${dir}/empty.ts"\n`,
    );
    await Deno.chmod(`${dir}/datumctl`, 0o755);
    await Deno.chmod(`${dir}/empty`, 0o755);
    const flags = startupStep().run!.match(/--no-stack --wall-budget 3 --peak-budget 0/)?.[0];
    assert.ok(flags, "the step passes --no-stack --wall-budget 3 --peak-budget 0");
    const out = await new Deno.Command(deno, {
      args: [
        "run",
        "-A",
        new URL("../bench/startup.ts", import.meta.url).pathname,
        "--binary",
        `${dir}/datumctl`,
        "--baseline-binary",
        `${dir}/empty`,
        ...flags.split(" "),
        "--runs",
        "10",
        "--json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(report.source, `${dir}/datumctl`);
    assert.equal(report.budget.wallRatio, 3);
    assert.equal(report.baseline.name, "empty compiled program");
    const names = report.results.map((r: { name: string }) => r.name);
    for (const hot of ["--version", "--help", "complete", "ctx", "whoami", "auth get-token"]) {
      assert.ok(names.some((n: string) => n.includes(hot)), `no ${hot} row`);
    }
    for (const r of report.results) {
      assert.equal(r.runs, 10);
      assert.ok(r.wallMs > 0 && r.wallRatio > 0, r.name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
