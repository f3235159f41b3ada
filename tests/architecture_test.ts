/**
 * The direction of imports between folders (docs/architecture.md draws it): `lib/core` at the
 * bottom imports nothing else of lib/; the domains (every other part of lib/ but `lib/ui`) never
 * import `lib/ui` or `commands/`; nothing in lib/ imports `commands/` or `local/`; and no folder
 * reaches itself again through others.
 *
 * Every .ts file is read: static imports and re-exports, type-only ones, literal `import("…")`
 * (`typeof import("…")` too) and the computed specifiers lazy imports use (`const specifier =
 * "…"`, `const [a, b] = ["…", "…"]`, `importModule<…>("…")`). Comments are left out.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Folders that are not datumctl's own TypeScript. */
const SKIP = new Set(["node_modules", ".git", "target", "dist", "engine"]);

/** One import: the file and line it is on, what it names and the repo path it resolves to. */
interface Import {
  file: string;
  line: number;
  specifier: string;
  /** The imported file, relative to the repository root; unset for npm:/node: and packages. */
  target?: string;
}

/**
 * The source with comments blanked (newlines kept, so line numbers hold). Strings, template
 * literals and regular expression literals are stepped over, so `//` in a URL or a quote in a
 * pattern does not throw the reading off.
 */
export function withoutComments(source: string): string {
  let out = "";
  let i = 0;
  // Open template literals: the brace depth of each `${` still open inside one.
  const templates: number[] = [];
  let braces = 0;
  let last = ""; // the last significant character, to tell a regex from a division
  let lastWord = "";
  const blank = (text: string) => text.replace(/[^\n]/g, " ");
  const regexMayStart = () =>
    last === "" || "(,=:[!&|?{};+-*%<>~^".includes(last) ||
    ["return", "typeof", "case", "in", "of", "void", "delete", "throw", "yield", "await"]
      .includes(lastWord);
  const template = () => {
    // From just after a backtick (or a `}` closing `${`) to the closing backtick or a `${`.
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        out += "  ";
        i += 2;
      } else if (c === "`") {
        out += c;
        i++;
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        out += "${";
        i += 2;
        templates.push(braces);
        braces = 0;
        return;
      } else {
        // Template text is not code: no import hides in it.
        out += c === "\n" ? c : " ";
        i++;
      }
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end < 0 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== "\n") {
        j += source[j] === "\\" ? 2 : 1;
      }
      out += source.slice(i, j + 1);
      i = j + 1;
      last = c;
      lastWord = "";
    } else if (c === "`") {
      out += c;
      i++;
      template();
      last = "`";
      lastWord = "";
    } else if (c === "}" && templates.length > 0 && braces === 0) {
      out += c;
      i++;
      braces = templates.pop()!;
      template();
      last = "`";
      lastWord = "";
    } else if (c === "/" && regexMayStart()) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        else if (source[j] === "/" && !inClass) break;
        j++;
      }
      out += source.slice(i, j + 1);
      i = j + 1;
      last = "/";
      lastWord = "";
    } else {
      if (c === "{") braces++;
      if (c === "}") braces--;
      if (/\s/.test(c)) {
        out += c;
        i++;
        continue;
      }
      if (/[A-Za-z0-9_$]/.test(c)) {
        let j = i;
        while (j < source.length && /[A-Za-z0-9_$]/.test(source[j])) j++;
        lastWord = source.slice(i, j);
        last = "a";
        out += lastWord;
        i = j;
        continue;
      }
      out += c;
      last = c;
      lastWord = "";
      i++;
    }
  }
  return out;
}

const IMPORT_PATTERNS = [
  // import … from "x"; export … from "x" (type-only ones too)
  /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*\s{},]*?)\s*from\s*"([^"]+)"/g,
  // import "x";
  /\bimport\s*"([^"]+)"/g,
  // import("x"), typeof import("x")
  /\bimport\(\s*"([^"]+)"\s*[,)]/g,
  // const specifier = "./x.ts" (lazy imports by a computed specifier)
  /\bconst\s+[\w$]+\s*=\s*"((?:\.\.?\/|npm:|node:|@)[^"]*)"/g,
  // importModule<T>("./x.ts")
  /\bimport\w*Module(?:<[^>]*>)?\(\s*"([^"]+)"/g,
];

/** The specifiers one file imports, with the line each is on. */
export function importsIn(source: string): { line: number; specifier: string }[] {
  const code = withoutComments(source);
  const lineAt = (index: number) => code.slice(0, index).split("\n").length;
  const found: { line: number; specifier: string }[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const m of code.matchAll(pattern)) {
      found.push({ line: lineAt(m.index! + m[0].indexOf(m[1])), specifier: m[1] });
    }
  }
  // const [a, b] = ["@inquirer/prompts", "./x.ts"]
  for (const m of code.matchAll(/\bconst\s+\[[\w$\s,]*\]\s*=\s*\[([^\]]*)\]/g)) {
    for (const s of m[1].matchAll(/"((?:\.\.?\/|npm:|node:|@)[^"]*)"/g)) {
      found.push({ line: lineAt(m.index! + m[0].indexOf(s[0])), specifier: s[1] });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

/** The part a file belongs to: `lib/<folder>`, a `lib/<file>.ts` of its own, or its top folder. */
export function partOf(path: string): string {
  const segments = path.split("/");
  if (segments[0] === "lib" && segments.length > 1) return segments.slice(0, 2).join("/");
  return segments.length > 1 ? segments[0] : path;
}

const isLib = (part: string) => part.startsWith("lib/");
const isDomain = (part: string) => isLib(part) && part !== "lib/core" && part !== "lib/ui";

/** What is wrong with one import between two parts, if anything. */
function ruleBroken(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  if (from === "lib/core" && isLib(to)) {
    return "lib/core is the floor: it imports nothing else of lib/";
  }
  if (isLib(from) && (to === "commands" || to === "local")) {
    return `lib/ never imports ${to}/`;
  }
  if (isDomain(from) && to === "lib/ui") {
    return `${from} is a domain: it returns data and lib/ui renders it, so it never imports lib/ui`;
  }
  return undefined;
}

/** Lines for every import that runs against the direction of the layers. */
export function brokenRules(imports: Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) {
    if (!i.target) continue;
    const why = ruleBroken(partOf(i.file), partOf(i.target));
    if (why) out.push(`${i.file}:${i.line}: import "${i.specifier}" (${why})`);
  }
  return out;
}

/** Parts whose imports are looked at for cycles: what ships, and the local stack. */
const inCycleCheck = (part: string) =>
  isLib(part) || ["commands", "main.ts", "local"].includes(part);

/**
 * Every folder-level cycle (one per strongly connected group of parts), each as the parts on it
 * and, for each step, an import that makes it.
 */
export function cycles(imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    if (!i.target) continue;
    const from = partOf(i.file);
    const to = partOf(i.target);
    if (from === to || !inCycleCheck(from) || !inCycleCheck(to)) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, i);
  }
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.map((group) => {
    // One cycle through the group: a shortest way back from its first part to itself.
    const members = new Set(group);
    const start = group.sort()[0];
    const previous = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && !end) {
      const v = queue.shift()!;
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [end!];
    while (path[0] !== start) path.unshift(previous.get(path[0])!);
    path.push(start);
    const steps = path.slice(1).map((to, k) => {
      const i = edges.get(path[k])!.get(to)!;
      return `  ${path[k]} → ${to}: ${i.file}:${i.line} imports "${i.specifier}"`;
    });
    return `cycle ${path.join(" → ")} (on it: ${group.join(", ")})\n${steps.join("\n")}`;
  });
}

/** Resolves a relative specifier against the importing file, as a repo-relative path. */
function resolveTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const url = new URL(specifier, `file://${ROOT}/${file}`);
  return url.pathname.slice(ROOT.length + 1);
}

async function repositoryImports(): Promise<Import[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory && !SKIP.has(e.name) && !e.name.startsWith(".")) await walk(path);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) files.push(path);
    }
  };
  await walk("");
  const imports: Import[] = [];
  for (const file of files.sort()) {
    const source = await Deno.readTextFile(`${ROOT}/${file}`);
    for (const { line, specifier } of importsIn(source)) {
      imports.push({ file, line, specifier, target: resolveTarget(file, specifier) });
    }
  }
  return imports;
}

Deno.test("the import reader sees every kind of import and none in comments or strings", () => {
  const source = [
    'import { a } from "./a.ts";',
    'import type { B } from "../b/b.ts";',
    "export {",
    "  c,",
    '} from "./c.ts";',
    'import "./side-effect.ts";',
    'const url = "https://example.com//not-a-comment"; // import { x } from "./comment.ts";',
    '/* import { y } from "./block-comment.ts"; */',
    'const pattern = /"[^"]*"/g; const d = await import("./d.ts");',
    'type E = typeof import("./e.ts");',
    'const text = `import { z } from "./template.ts" ${`${1}`}`;',
    '  const specifier = "./f.ts";',
    'const [prompts, g] = ["@inquirer/prompts", "../g.ts"];',
    'await importModule<typeof import("./h.ts")>("./h.ts");',
  ].join("\n");
  const found = importsIn(source).map((i) => `${i.line}:${i.specifier}`);
  assert.deepEqual(found.sort(), [
    "10:./e.ts",
    "12:./f.ts",
    "13:../g.ts",
    "13:@inquirer/prompts",
    "14:./h.ts",
    "14:./h.ts",
    "1:./a.ts",
    "2:../b/b.ts",
    "5:./c.ts",
    "6:./side-effect.ts",
    "9:./d.ts",
  ]);
});

Deno.test("the rules name each import that runs back up, and each cycle", () => {
  const at = (file: string, target: string): Import => ({
    file,
    line: 3,
    specifier: target,
    target,
  });
  assert.deepEqual(
    brokenRules([
      at("lib/core/io.ts", "lib/store/paths.ts"),
      at("lib/scope/select.ts", "lib/ui/contexts.ts"),
      at("lib/yaml.ts", "lib/ui/output.ts"),
      at("lib/tunnel/daemon/run.ts", "commands/tunnel.ts"),
      at("lib/api/client.ts", "local/api.ts"),
      at("lib/ui/contexts.ts", "lib/scope/contexts.ts"),
      at("commands/ctx.ts", "lib/ui/contexts.ts"),
      at("local/api.ts", "lib/api/urls.ts"),
    ]).map((line) => line.split(" (")[0]),
    [
      'lib/core/io.ts:3: import "lib/store/paths.ts"',
      'lib/scope/select.ts:3: import "lib/ui/contexts.ts"',
      'lib/yaml.ts:3: import "lib/ui/output.ts"',
      'lib/tunnel/daemon/run.ts:3: import "commands/tunnel.ts"',
      'lib/api/client.ts:3: import "local/api.ts"',
    ],
  );
  const found = cycles([
    at("lib/auth/resolve.ts", "lib/scope/resolve.ts"),
    at("lib/scope/resolve.ts", "lib/store/config.ts"),
    at("lib/store/config.ts", "lib/auth/sessions.ts"),
    at("lib/yaml.ts", "lib/core/errors.ts"),
    at("tests/x_test.ts", "lib/auth/resolve.ts"),
    at("lib/auth/y_test.ts", "tests/support/cli.ts"),
  ]);
  assert.equal(found.length, 1);
  assert.match(found[0], /^cycle lib\/auth → lib\/scope → lib\/store → lib\/auth \(on it: /);
  assert.match(found[0], /lib\/store → lib\/auth: lib\/store\/config\.ts:3 imports/);
});

Deno.test("every import in the repository runs downwards, and no folder is on a cycle", async () => {
  const imports = await repositoryImports();
  assert.ok(imports.length > 500, `read only ${imports.length} imports`);
  assert.ok(
    imports.some((i) => i.specifier === "@inquirer/prompts"),
    "the computed import of @inquirer/prompts was not seen",
  );
  const problems = [...brokenRules(imports), ...cycles(imports)];
  assert.deepEqual(
    problems,
    [],
    `imports against the direction of the layers:\n${problems.join("\n")}`,
  );
});
