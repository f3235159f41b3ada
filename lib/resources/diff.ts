/**
 * What `diff -f` compares and how it shows it.
 *
 * Exports {@link unifiedDiff} (a `diff -u` style text of two texts, 3 lines of context),
 * {@link comparableObject} (an object minus the fields the server changes on every write —
 * managedFields, resourceVersion, generation — so a no-op apply compares equal) and
 * {@link externalDiff} (kubectl's `KUBECTL_EXTERNAL_DIFF` protocol: LIVE and MERGED folders).
 */
import { CliError } from "../ui/errors.ts";
import type { KubeObject } from "./objects.ts";

type Op = { kind: "same" | "del" | "add"; line: string };

/** Line-level shortest edit script (Myers' O(ND) algorithm). */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  let v = new Array<number>(2 * max + 3).fill(0);
  const trace: number[][] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) x = v[offset + k + 1];
      else x = v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
    v = next;
  }
  trace.push(v.slice());
  // Walk back through the saved frontiers to recover the path.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0 && (x > 0 || y > 0); d--) {
    const frontier = trace[d];
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && frontier[offset + k - 1] < frontier[offset + k + 1])) {
      prevK = k + 1;
    } else prevK = k - 1;
    const prevX = d === 0 ? 0 : frontier[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: "same", line: a[x - 1] });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) ops.push({ kind: "add", line: b[y - 1] });
    else ops.push({ kind: "del", line: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: "same", line: a[x - 1] });
    x--;
    y--;
  }
  return ops.reverse();
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * A unified diff of `before` → `after` with `---`/`+++` headers naming the two sides; empty when
 * they are equal.
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { from: string; to: string },
  context = 3,
): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  if (ops.every((op) => op.kind === "same")) return "";

  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  // Positions of changes, grouped into hunks separated by more than 2*context unchanged lines.
  const changed = ops.map((op, i) => (op.kind === "same" ? -1 : i)).filter((i) => i >= 0);
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const start = Math.max(0, i - context);
    const end = Math.min(ops.length, i + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  for (const [start, end] of hunks) {
    let aStart = 0;
    let bStart = 0;
    for (let i = 0; i < start; i++) {
      if (ops[i].kind !== "add") aStart++;
      if (ops[i].kind !== "del") bStart++;
    }
    let aLen = 0;
    let bLen = 0;
    let body = "";
    for (let i = start; i < end; i++) {
      const op = ops[i];
      if (op.kind !== "add") aLen++;
      if (op.kind !== "del") bLen++;
      body += `${op.kind === "same" ? " " : op.kind === "del" ? "-" : "+"}${op.line}\n`;
    }
    const range = (
      s: number,
      len: number,
    ) => (len === 0 ? `${s},0` : len === 1 ? `${s + 1}` : `${s + 1},${len}`);
    out += `@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@\n${body}`;
  }
  return out;
}

/** A copy of `object` without the fields every write changes (for `diff` and `apply`). */
export function comparableObject(object: KubeObject | undefined): KubeObject | undefined {
  if (!object) return undefined;
  const copy = structuredClone(object);
  if (copy.metadata) {
    delete copy.metadata.managedFields;
    delete copy.metadata.resourceVersion;
    delete copy.metadata.generation;
  }
  return copy;
}

/**
 * Runs `program` (a command line split on spaces) on a LIVE and a MERGED folder holding each
 * result's two sides, as kubectl does; returns its exit code and stdout (its stderr is the
 * terminal's). A program that cannot run is a `DIFF_FAILED` error with exit code 2.
 */
export async function externalDiff(
  program: string,
  results: { fileName: string; liveYaml: string; mergedYaml: string }[],
): Promise<{ code: number; stdout: string }> {
  const root = await Deno.makeTempDir({ prefix: "datumctl-diff-" });
  try {
    const live = `${root}/LIVE`;
    const merged = `${root}/MERGED`;
    await Deno.mkdir(live);
    await Deno.mkdir(merged);
    for (const r of results) {
      await Deno.writeTextFile(`${live}/${r.fileName}`, r.liveYaml);
      await Deno.writeTextFile(`${merged}/${r.fileName}`, r.mergedYaml);
    }
    const [command, ...args] = program.trim().split(/\s+/);
    const out = await new Deno.Command(command, {
      args: [...args, live, merged],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  } catch (err) {
    throw new CliError("DIFF_FAILED", `cannot run ${program}: ${(err as Error).message}`, {
      hint: "Check KUBECTL_EXTERNAL_DIFF, or unset it to use the built-in diff.",
      exitCode: 2,
    });
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
