/**
 * Human durations as datum-connect's `--timeout` takes them (humantime): `10m`, `90s`, `1h30m`,
 * `500ms`, `2min`, `1 hour`.
 */
import { UsageError } from "../core/errors.ts";

const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Milliseconds of a duration such as `10m` or `1h 30m`; a bare number is seconds. */
export function parseDuration(text: string, flag = "--timeout"): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  const compact = trimmed.toLowerCase();
  while (consumed < compact.length) {
    while (compact[consumed] === " ") consumed++;
    re.lastIndex = consumed;
    m = re.exec(compact);
    if (!m || UNITS[m[2]] === undefined) {
      throw new UsageError(
        `${flag} "${text}" is not a duration`,
        "Use e.g. 90s, 10m or 1h30m.",
      );
    }
    total += Number(m[1]) * UNITS[m[2]];
    consumed = re.lastIndex;
  }
  if (total <= 0) throw new UsageError(`${flag} must be longer than zero`, "Use e.g. 90s or 10m.");
  return Math.round(total);
}
