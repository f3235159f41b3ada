import assert from "node:assert/strict";
import { parseJsonPathExpression, parseJsonPathTemplate } from "./jsonpath.ts";
import { UsageError } from "../core/errors.ts";

const list = {
  kind: "List",
  items: [
    {
      metadata: { name: "a", labels: { "app.kubernetes.io/name": "web" } },
      status: {
        conditions: [{ type: "Ready", status: "True" }, { type: "Programmed", status: "False" }],
      },
      spec: { replicas: 2 },
    },
    { metadata: { name: "b" }, status: { conditions: [{ type: "Ready", status: "False" }] } },
  ],
};

Deno.test("jsonpath: fields, wildcards and literal text", () => {
  assert.equal(parseJsonPathTemplate("{.items[*].metadata.name}").execute(list), "a b");
  assert.equal(parseJsonPathTemplate("name={.items[0].metadata.name}!").execute(list), "name=a!");
  assert.equal(parseJsonPathTemplate("{.items[-1].metadata.name}").execute(list), "b");
  assert.equal(parseJsonPathTemplate("{.items[0:1].metadata.name}").execute(list), "a");
  assert.equal(parseJsonPathTemplate("{.kind}{'\\n'}").execute(list), "List\n");
  assert.equal(parseJsonPathTemplate('{.kind}{"\\t"}x').execute(list), "List\tx");
});

Deno.test("jsonpath: escaped dots, quoted names and recursive descent", () => {
  assert.equal(
    parseJsonPathTemplate("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}").execute(list),
    "web",
  );
  assert.equal(
    parseJsonPathTemplate("{.items[0].metadata.labels['app.kubernetes.io/name']}").execute(list),
    "web",
  );
  assert.equal(parseJsonPathTemplate("{..name}").execute(list), "a b");
});

Deno.test("jsonpath: filters and range", () => {
  const expr = parseJsonPathExpression(".status.conditions[?(@.type=='Ready')].status");
  assert.equal(expr.execute(list.items[0]), "True");
  assert.equal(expr.execute(list.items[1]), "False");
  assert.equal(
    parseJsonPathTemplate('{range .items[*]}{.metadata.name}{"\\n"}{end}').execute(list),
    "a\nb\n",
  );
  assert.equal(
    parseJsonPathTemplate("{.items[?(@.spec.replicas > 1)].metadata.name}").execute(list),
    "a",
  );
  assert.equal(parseJsonPathTemplate("{.items[?(@.spec)].metadata.name}").execute(list), "a");
});

Deno.test("jsonpath: objects print as JSON, missing keys print nothing", () => {
  assert.equal(parseJsonPathTemplate("{.items[0].spec}").execute(list), '{"replicas":2}');
  assert.equal(parseJsonPathTemplate("{.nope.nothing}").execute(list), "");
  assert.deepEqual(parseJsonPathExpression(".items[*].spec.replicas").values(list), [2]);
});

Deno.test("jsonpath: syntax errors are usage errors", () => {
  assert.throws(() => parseJsonPathTemplate("{.items[0}"), UsageError);
  assert.throws(() => parseJsonPathTemplate("{range .items[*]}{.x}"), UsageError);
  assert.throws(() => parseJsonPathTemplate("{.a"), UsageError);
});
