/**
 * The `Events:` block at the end of `describe`, laid out as kubectl's: type, reason, age (with
 * `(xN over AGE)` for repeated events), the reporting component and the message.
 *
 * Exports {@link renderEvents}.
 */
import { humanAge } from "./printers.ts";
import { renderTable } from "./output.ts";
import { type KubeEvent, lastSeen } from "../resources/events.ts";

/** Server text on one line without control characters (a message must not drive the terminal). */
function plain(text: string | undefined): string {
  // deno-lint-ignore no-control-regex
  return (text ?? "").replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
}

function age(event: KubeEvent, now: number): string {
  const last = humanAge(lastSeen(event), now);
  if ((event.count ?? 1) > 1 && event.firstTimestamp) {
    return `${last} (x${event.count} over ${humanAge(event.firstTimestamp, now)})`;
  }
  return last;
}

/** `Events:  <none>` or an indented table of the events, oldest first. */
export function renderEvents(events: KubeEvent[], now = Date.now()): string {
  if (events.length === 0) return "Events:  <none>\n";
  const headers = ["Type", "Reason", "Age", "From", "Message"];
  const rows = [
    headers.map((h) => "-".repeat(h.length)),
    ...events.map((e) => [
      plain(e.type),
      plain(e.reason),
      age(e, now),
      plain(e.source?.component ?? e.reportingController),
      plain(e.message),
    ]),
  ];
  // renderTable upper-cases nothing: the header row is passed as it should look.
  const table = renderTable(headers, rows);
  return "Events:\n" + table.split("\n").filter(Boolean).map((l) => `  ${l}\n`).join("");
}
