/**
 * kubectl's JSONPath templates: `-o jsonpath=…`, the cells of `-o custom-columns=…` and the
 * `jsonPath` of a CRD's printer columns.
 *
 * The dialect is kubectl's: text outside braces is literal, `{.a.b}`, `{..name}`, `{.items[*]}`,
 * `{.x[0:2]}`, `{.x[-1]}`, `{['a.b']}`, unions `[a,b]`, filters `[?(@.type=="Ready")]`,
 * `{range …}…{end}`, `{"literal\n"}`, and `\.` escapes inside field names
 * (`{.metadata.labels.app\.kubernetes\.io/name}`). Missing keys yield nothing, as
 * `kubectl get -o jsonpath` does. Templates are compiled once; a syntax error is a usage error.
 */
import { UsageError } from "../core/errors.ts";
import { formatJsonPathValue } from "./objects.ts";

// It lives in objects.ts so that `describe` can print values without loading this parser.
export { formatJsonPathValue };

type Segment =
  | { kind: "field"; names: string[] }
  | { kind: "recursive"; name: string | "*" }
  | { kind: "wildcard" }
  | { kind: "index"; indices: number[] }
  | { kind: "slice"; start?: number; end?: number; step?: number }
  | { kind: "filter"; filter: Filter };

interface Path {
  /** `$` = evaluate from the root document, otherwise from the current value. */
  fromRoot: boolean;
  segments: Segment[];
}

type Operand = { kind: "path"; path: Path } | { kind: "literal"; value: unknown };

interface Filter {
  left: Operand;
  op?: "==" | "!=" | "<" | ">" | "<=" | ">=";
  right?: Operand;
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "paths"; paths: Path[] }
  | { kind: "range"; path: Path; body: Node[] };

/** A compiled JSONPath template. */
export interface JsonPathTemplate {
  /** The values each `{…}` produced, rendered as kubectl does (strings raw, objects as JSON). */
  execute(data: unknown): string;
  /** The raw values of a single-expression template (used by custom columns). */
  values(data: unknown): unknown[];
}

function syntaxError(template: string, why: string): UsageError {
  return new UsageError(
    `invalid jsonpath template ${JSON.stringify(template)}: ${why}`,
    `Example: -o jsonpath='{.items[*].metadata.name}'`,
  );
}

/** Splits the template into literal text and the bodies of `{…}` (quotes may hold braces). */
function splitTemplate(template: string): { text?: string; expr?: string }[] {
  const parts: { text?: string; expr?: string }[] = [];
  let i = 0;
  let text = "";
  while (i < template.length) {
    const c = template[i];
    if (c !== "{") {
      text += c;
      i++;
      continue;
    }
    if (text) parts.push({ text });
    text = "";
    let j = i + 1;
    let quote: string | undefined;
    let depth = 0;
    for (; j < template.length; j++) {
      const d = template[j];
      if (quote) {
        if (d === "\\") j++;
        else if (d === quote) quote = undefined;
        continue;
      }
      if (d === "\\") {
        j++;
        continue;
      }
      if (d === '"' || d === "'") quote = d;
      else if (d === "[" || d === "(") depth++;
      else if (d === "]" || d === ")") depth--;
      else if (d === "}" && depth <= 0) break;
    }
    if (j >= template.length) throw syntaxError(template, "unclosed {");
    parts.push({ expr: template.slice(i + 1, j) });
    i = j + 1;
  }
  if (text) parts.push({ text });
  return parts;
}

function unescapeLiteral(body: string): string {
  return body.replace(/\\(.)/g, (_, ch: string) => {
    switch (ch) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      default:
        return ch;
    }
  });
}

class PathParser {
  private i = 0;
  constructor(private readonly src: string, private readonly template: string) {}

  private get done(): boolean {
    return this.i >= this.src.length;
  }

  private peek(n = 0): string {
    return this.src[this.i + n] ?? "";
  }

  private fail(why: string): never {
    throw syntaxError(this.template, why);
  }

  private skipSpaces(): void {
    while (!this.done && /\s/.test(this.peek())) this.i++;
  }

  /** Parses a comma-separated union of paths filling the whole expression. */
  parseUnion(): Path[] {
    const paths: Path[] = [];
    for (;;) {
      this.skipSpaces();
      paths.push(this.parsePath());
      this.skipSpaces();
      if (this.peek() === ",") {
        this.i++;
        continue;
      }
      if (!this.done) this.fail(`unexpected ${JSON.stringify(this.peek())}`);
      return paths;
    }
  }

  parsePath(stopAt = ""): Path {
    const path: Path = { fromRoot: false, segments: [] };
    if (this.peek() === "$") {
      path.fromRoot = true;
      this.i++;
    } else if (this.peek() === "@") {
      this.i++;
    }
    while (!this.done) {
      const c = this.peek();
      if (stopAt.includes(c) || /\s/.test(c) || c === ",") break;
      if (c === ".") {
        if (this.peek(1) === ".") {
          this.i += 2;
          if (this.peek() === "*") {
            this.i++;
            path.segments.push({ kind: "recursive", name: "*" });
          } else {
            path.segments.push({ kind: "recursive", name: this.parseName() });
          }
          continue;
        }
        this.i++;
        if (this.peek() === "*") {
          this.i++;
          path.segments.push({ kind: "wildcard" });
          continue;
        }
        // A bare "." (the current value) has no name after it.
        if (this.done || "[.,) ".includes(this.peek()) || stopAt.includes(this.peek())) continue;
        path.segments.push({ kind: "field", names: [this.parseName()] });
        continue;
      }
      if (c === "[") {
        path.segments.push(this.parseBracket());
        continue;
      }
      if (path.segments.length === 0 && !path.fromRoot) {
        // kubectl tolerates a leading field without its dot ("{metadata.name}").
        path.segments.push({ kind: "field", names: [this.parseName()] });
        continue;
      }
      this.fail(`unexpected ${JSON.stringify(c)}`);
    }
    return path;
  }

  private parseName(): string {
    let name = "";
    while (!this.done) {
      const c = this.peek();
      if (c === "\\") {
        name += this.peek(1);
        this.i += 2;
        continue;
      }
      if (".[]{}(),=!<>@'\" \t\n".includes(c)) break;
      name += c;
      this.i++;
    }
    if (!name) this.fail("expected a field name");
    return name;
  }

  private parseQuoted(): string {
    const quote = this.peek();
    this.i++;
    let out = "";
    while (!this.done && this.peek() !== quote) {
      if (this.peek() === "\\") {
        out += this.peek(1);
        this.i += 2;
        continue;
      }
      out += this.peek();
      this.i++;
    }
    if (this.done) this.fail("unterminated string");
    this.i++;
    return out;
  }

  private parseInt(): number | undefined {
    const m = /^-?\d+/.exec(this.src.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    return Number(m[0]);
  }

  private parseBracket(): Segment {
    this.i++; // [
    this.skipSpaces();
    const c = this.peek();
    let seg: Segment;
    if (c === "*") {
      this.i++;
      seg = { kind: "wildcard" };
    } else if (c === "?") {
      this.i++;
      this.skipSpaces();
      if (this.peek() !== "(") this.fail("expected ( after ?");
      this.i++;
      seg = { kind: "filter", filter: this.parseFilter() };
      this.skipSpaces();
      if (this.peek() !== ")") this.fail("expected ) to close the filter");
      this.i++;
    } else if (c === "'" || c === '"') {
      const names = [this.parseQuoted()];
      this.skipSpaces();
      while (this.peek() === ",") {
        this.i++;
        this.skipSpaces();
        names.push(this.parseQuoted());
        this.skipSpaces();
      }
      seg = { kind: "field", names };
    } else {
      const first = this.parseInt();
      this.skipSpaces();
      if (this.peek() === ":") {
        const slice: { start?: number; end?: number; step?: number } = { start: first };
        this.i++;
        this.skipSpaces();
        slice.end = this.parseInt();
        this.skipSpaces();
        if (this.peek() === ":") {
          this.i++;
          slice.step = this.parseInt();
        }
        seg = { kind: "slice", ...slice };
      } else {
        if (first === undefined) this.fail("expected an index, a quoted name, * or ?(…)");
        const indices = [first];
        while (this.peek() === ",") {
          this.i++;
          this.skipSpaces();
          const n = this.parseInt();
          if (n === undefined) this.fail("expected an index after ,");
          indices.push(n);
          this.skipSpaces();
        }
        seg = { kind: "index", indices };
      }
    }
    this.skipSpaces();
    if (this.peek() !== "]") this.fail("expected ]");
    this.i++;
    return seg;
  }

  private parseOperand(): Operand {
    this.skipSpaces();
    const c = this.peek();
    if (c === "@" || c === "$" || c === ".") {
      return { kind: "path", path: this.parsePath(")=!<> ") };
    }
    if (c === "'" || c === '"') return { kind: "literal", value: this.parseQuoted() };
    const m = /^(-?\d+(\.\d+)?|true|false|null)/.exec(this.src.slice(this.i));
    if (!m) this.fail("expected a value in the filter");
    this.i += m[0].length;
    return { kind: "literal", value: JSON.parse(m[0]) };
  }

  private parseFilter(): Filter {
    const left = this.parseOperand();
    this.skipSpaces();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.src.slice(this.i));
    if (!m) return { left };
    this.i += m[0].length;
    const right = this.parseOperand();
    return { left, op: m[0] as Filter["op"], right };
  }
}

function compileNodes(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const ranges: Extract<Node, { kind: "range" }>[] = [];
  for (const part of splitTemplate(template)) {
    const target = stack[stack.length - 1];
    if (part.text !== undefined) {
      target.push({ kind: "text", text: part.text });
      continue;
    }
    const expr = part.expr!.trim();
    if (expr === "end") {
      if (ranges.length === 0) throw syntaxError(template, "{end} without {range}");
      ranges.pop();
      stack.pop();
      continue;
    }
    if (expr.startsWith("range ") || expr.startsWith("range\t")) {
      const path = new PathParser(expr.slice(6).trim(), template).parseUnion();
      if (path.length !== 1) throw syntaxError(template, "range takes one path");
      const node: Extract<Node, { kind: "range" }> = { kind: "range", path: path[0], body: [] };
      target.push(node);
      ranges.push(node);
      stack.push(node.body);
      continue;
    }
    if (/^(["']).*\1$/s.test(expr)) {
      target.push({ kind: "text", text: unescapeLiteral(expr.slice(1, -1)) });
      continue;
    }
    if (expr === "") throw syntaxError(template, "empty {}");
    target.push({ kind: "paths", paths: new PathParser(expr, template).parseUnion() });
  }
  if (ranges.length > 0) throw syntaxError(template, "{range} without {end}");
  return root;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

function recursiveCollect(v: unknown, name: string, out: unknown[]): void {
  if (name === "*") out.push(...children(v));
  else if (isObject(v) && name in v) out.push(v[name]);
  for (const child of children(v)) recursiveCollect(child, name, out);
}

function normalizeIndex(i: number, length: number): number {
  return i < 0 ? length + i : i;
}

function compare(a: unknown, op: NonNullable<Filter["op"]>, b: unknown): boolean {
  // kubectl compares numbers numerically and everything else as strings.
  const bothNumbers = typeof a === "number" && typeof b === "number";
  const x = bothNumbers ? a : String(a);
  const y = bothNumbers ? b : String(b);
  switch (op) {
    case "==":
      return x === y;
    case "!=":
      return x !== y;
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    case ">=":
      return x >= y;
  }
}

function evalOperand(op: Operand, current: unknown, root: unknown): unknown[] {
  return op.kind === "literal" ? [op.value] : evalPath(op.path, current, root);
}

function applySegment(seg: Segment, values: unknown[], root: unknown): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (seg.kind) {
      case "field":
        for (const name of seg.names) if (isObject(v) && name in v) out.push(v[name]);
        break;
      case "recursive":
        recursiveCollect(v, seg.name, out);
        break;
      case "wildcard":
        out.push(...children(v));
        break;
      case "index":
        if (!Array.isArray(v)) break;
        for (const i of seg.indices) {
          const k = normalizeIndex(i, v.length);
          if (k >= 0 && k < v.length) out.push(v[k]);
        }
        break;
      case "slice": {
        if (!Array.isArray(v)) break;
        const step = seg.step && seg.step > 0 ? seg.step : 1;
        const start = Math.max(0, normalizeIndex(seg.start ?? 0, v.length));
        const end = Math.min(v.length, normalizeIndex(seg.end ?? v.length, v.length));
        for (let k = start; k < end; k += step) out.push(v[k]);
        break;
      }
      case "filter": {
        for (const item of children(v)) {
          const left = evalOperand(seg.filter.left, item, root);
          if (!seg.filter.op) {
            if (left.length > 0 && left[0] !== false && left[0] !== null) out.push(item);
            continue;
          }
          const right = evalOperand(seg.filter.right!, item, root);
          if (left.length > 0 && right.length > 0 && compare(left[0], seg.filter.op, right[0])) {
            out.push(item);
          }
        }
        break;
      }
    }
  }
  return out;
}

function evalPath(path: Path, current: unknown, root: unknown): unknown[] {
  let values: unknown[] = [path.fromRoot ? root : current];
  for (const seg of path.segments) values = applySegment(seg, values, root);
  return values;
}

function render(nodes: Node[], current: unknown, root: unknown): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "paths") {
      const values = node.paths.flatMap((p) => evalPath(p, current, root));
      out += values.map(formatJsonPathValue).join(" ");
    } else {
      for (const item of evalPath(node.path, current, root)) {
        // A range over one array iterates its items, as kubectl does for `{range .items}`.
        const items = node.path.segments.at(-1)?.kind === "wildcard" || !Array.isArray(item)
          ? [item]
          : item;
        for (const each of items) out += render(node.body, each, root);
      }
    }
  }
  return out;
}

/** Compiles a kubectl JSONPath template; throws a {@link UsageError} on bad syntax. */
export function parseJsonPathTemplate(template: string): JsonPathTemplate {
  const nodes = compileNodes(template);
  return {
    execute: (data) => render(nodes, data, data),
    values: (data) =>
      nodes.flatMap((n) =>
        n.kind === "paths" ? n.paths.flatMap((p) => evalPath(p, data, data)) : []
      ),
  };
}

/** Compiles a bare path such as a CRD printer column's `.status.phase` (braces optional). */
export function parseJsonPathExpression(expression: string): JsonPathTemplate {
  const trimmed = expression.trim();
  return parseJsonPathTemplate(trimmed.startsWith("{") ? trimmed : `{${trimmed}}`);
}
