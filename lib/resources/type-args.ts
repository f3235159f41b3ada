/**
 * kubectl's way of naming objects on the command line: `TYPE[,TYPE…] [NAME…]` or
 * `TYPE/NAME…`, read into one request per type, every name checked before anything is sent.
 */
import { UsageError } from "../core/errors.ts";
import { checkResourceName } from "../api/urls.ts";

/** One `get`/`describe`/`delete` request: a type as typed and the names asked for. */
export interface TypeRequest {
  type: string;
  names: string[];
}

/**
 * kubectl's argument forms: `TYPE[,TYPE] [NAME…]` or `TYPE/NAME…`. Every name is checked
 * before anything is sent (`.`, `..`, `/`, `%`, empty or overlong names are usage errors).
 */
export function parseTypeArgs(args: string[]): TypeRequest[] {
  const requests = parseTypeWords(args);
  for (const request of requests) for (const name of request.names) checkResourceName(name);
  return requests;
}

function parseTypeWords(args: string[]): TypeRequest[] {
  if (args.length === 0) return [];
  const isSlashForm = (a: string) => a.split("/").length === 2 && !/^v\d/.test(a);
  if (isSlashForm(args[0])) {
    const requests: TypeRequest[] = [];
    for (const arg of args) {
      if (!isSlashForm(arg)) {
        throw new UsageError(
          `"${arg}" is not TYPE/NAME`,
          "Mixing TYPE/NAME with plain names is not allowed; write each as TYPE/NAME.",
        );
      }
      const [type, name] = arg.split("/");
      const existing = requests.find((r) => r.type === type);
      if (existing) existing.names.push(name);
      else requests.push({ type, names: [name] });
    }
    return requests;
  }
  const types = args[0].split(",").filter(Boolean);
  const names = args.slice(1);
  if (types.length > 1 && names.length > 0) {
    throw new UsageError(
      "names need exactly one type",
      "Use TYPE NAME… or TYPE/NAME TYPE/NAME….",
    );
  }
  return types.map((type) => ({ type, names: [...names] }));
}
