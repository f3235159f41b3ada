/**
 * Columns `get -o wide` adds where the server's Table has none for it. kubectl's `-o wide`
 * shows a Table's columns of priority > 0, but Datum's HTTPProxy CRD declares its printer
 * columns (Hostname, Programmed, Certificates, Age) all at priority 0, so wide would equal the
 * plain table. For such types datumctl appends its own priority-1 columns, read from the whole
 * objects in the rows (the Table must be asked for with `includeObject=Object`).
 */
import type { KubeObject, KubeTable, TableColumn } from "./objects.ts";
import type { ResourceType } from "./discovery.ts";

interface WideColumn extends TableColumn {
  value: (object: KubeObject) => string | null;
}

interface HttpProxyBackend {
  endpoint?: string;
  connector?: { name?: string };
}

function backendsOf(object: KubeObject): HttpProxyBackend[] {
  const rules = (object.spec as { rules?: { backends?: HttpProxyBackend[] }[] } | undefined)
    ?.rules;
  return (Array.isArray(rules) ? rules : []).flatMap((r) =>
    Array.isArray(r?.backends) ? r.backends : []
  );
}

function joined(values: (string | undefined)[]): string | null {
  const present = [...new Set(values.filter((v): v is string => typeof v === "string" && !!v))];
  return present.length ? present.join(",") : null;
}

function conditionStatus(object: KubeObject, type: string): string | null {
  const conditions = (object.status as { conditions?: { type?: string; status?: string }[] })
    ?.conditions;
  const found = Array.isArray(conditions) ? conditions.find((c) => c?.type === type) : undefined;
  return found?.status ?? null;
}

/** Extra wide columns per `plural.group`. */
const WIDE_COLUMNS: Record<string, WideColumn[]> = {
  "httpproxies.networking.datumapis.com": [
    {
      name: "Accepted",
      type: "string",
      priority: 1,
      description: "Whether the HTTPProxy was accepted (its Accepted condition).",
      value: (o) => conditionStatus(o, "Accepted"),
    },
    {
      name: "Backends",
      type: "string",
      priority: 1,
      description: "The endpoints of the backends of every rule.",
      value: (o) => joined(backendsOf(o).map((b) => b.endpoint)),
    },
    {
      name: "Connector",
      type: "string",
      priority: 1,
      description: "The Connectors the backends reach their endpoints through.",
      value: (o) => joined(backendsOf(o).map((b) => b.connector?.name)),
    },
  ],
};

/**
 * `table` with the wide columns datumctl knows for `type` appended, unless the server already
 * sends columns of priority > 0 (then its own wide view is kubectl's and stays as it is). Rows
 * without a whole object get `null` cells (shown as `<none>`).
 */
export function withWideColumns(type: ResourceType, table: KubeTable): KubeTable {
  const extra = WIDE_COLUMNS[`${type.plural}.${type.group}`];
  if (!extra || table.columnDefinitions.some((c) => (c.priority ?? 0) > 0)) return table;
  const whole = (object: KubeObject | undefined) =>
    object && object.kind !== "PartialObjectMetadata" ? object : undefined;
  return {
    ...table,
    columnDefinitions: [
      ...table.columnDefinitions,
      ...extra.map(({ value: _value, ...column }) => column),
    ],
    rows: table.rows.map((row) => {
      const object = whole(row.object);
      return {
        ...row,
        cells: [...row.cells, ...extra.map((c) => (object ? c.value(object) : null))],
      };
    }),
  };
}
