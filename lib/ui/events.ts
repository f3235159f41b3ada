/**
 * The `Events:` block at the end of `describe`, laid out as kubectl's: type, reason, age (with
 * `(xN over AGE)` for repeated events), the reporting component and the message.
 */
import { humanAge } from "../resources/objects.ts";
import { renderTable } from "./table.ts";
import { type KubeEvent, lastSeen } from "../resources/events.ts";

/** Server text for one cell; renderTable makes every cell safe for the terminal. */
function plain(text: string | undefined): string {
  return (text ?? "").trim();
}

function age(event: KubeEvent, now: number): string {
  const last = humanAge(lastSeen(event), now);
  if ((event.count ?? 1) > 1 && event.firstTimestamp) {
    return `${last} (x${event.count} over ${humanAge(event.firstTimestamp, now)})`;
  }
  return last;
}

/** `Events:  <none>` or an indented table of the events, oldest first. */
export async function renderEvents(events: KubeEvent[], now = Date.now()): Promise<string> {
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
  const table = await renderTable(headers, rows);
  return "Events:\n" + table.split("\n").filter(Boolean).map((l) => `  ${l}\n`).join("");
}
