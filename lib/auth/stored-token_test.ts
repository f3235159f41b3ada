import assert from "node:assert/strict";
import {
  decodeJwtClaims,
  formatRfc3339,
  refreshDue,
  refreshDueAt,
  refreshMarginMs,
  storedTokenFrom,
  tokenExpiry,
} from "./stored-token.ts";

Deno.test("Go's expiry formats are read; the zero time means no expiry", () => {
  assert.equal(
    tokenExpiry({ expiry: "2026-07-16T12:00:00.123456789+02:00" })?.toISOString(),
    "2026-07-16T10:00:00.123Z",
  );
  assert.equal(tokenExpiry({ expiry: "0001-01-01T00:00:00Z" }), undefined);
  assert.equal(tokenExpiry({}), undefined);
});

Deno.test("a refresh keeps the old refresh token when none comes back", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const first = storedTokenFrom(
    { access_token: "a1", refresh_token: "r1", expires_in: 3600, token_type: "bearer" },
    undefined,
    now,
  );
  assert.equal(first.token_type, "Bearer");
  assert.equal(first.expiry, "2026-01-01T01:00:00.000Z");
  const second = storedTokenFrom({ access_token: "a2", expires_in: 60 }, first, now);
  assert.equal(second.refresh_token, "r1");
  const rotated = storedTokenFrom({ access_token: "a3", refresh_token: "r2" }, first, now);
  assert.equal(rotated.refresh_token, "r2");
  assert.equal(rotated.expiry, undefined);
});

Deno.test("refresh is due 5 minutes before expiry, half the lifetime for short tokens", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const at = (seconds: number, lifetime?: number) => ({
    access_token: "x",
    expiry: new Date(now.getTime() + seconds * 1000).toISOString(),
    ...(lifetime === undefined ? {} : { expires_in: lifetime }),
  });
  // A one-hour token: 5 minutes early, not earlier.
  assert.equal(refreshDue(at(301, 3600), now), false);
  assert.equal(refreshDue(at(300, 3600), now), true);
  // A 4-minute token: at half its lifetime.
  assert.equal(refreshDue(at(121, 240), now), false);
  assert.equal(refreshDue(at(119, 240), now), true);
  // A 4-second test token: 2 s early.
  assert.equal(refreshDue(at(3, 4), now), false);
  assert.equal(refreshDue(at(2, 4), now), true);
  // Unknown lifetime: the full 5 minutes.
  assert.equal(refreshDue(at(299), now), true);
  assert.equal(refreshDue(at(400), now), false);
  assert.equal(refreshDue({ access_token: "x" }, now), false);
  assert.equal(refreshDueAt({ access_token: "x" }), undefined);
  assert.equal(refreshDueAt(at(3600, 3600))?.getTime(), now.getTime() + 3300_000);
  assert.deepEqual([600_000, 60_000, 8_000, undefined].map(refreshMarginMs), [
    300_000,
    30_000,
    4_000,
    300_000,
  ]);
});

Deno.test("RFC 3339 without fractions, and JWT claims decoding", () => {
  assert.equal(formatRfc3339(new Date("2026-07-16T10:00:00.999Z")), "2026-07-16T10:00:00Z");
  const payload = btoa(JSON.stringify({ sub: "u1", email: "a@b.c" })).replace(/=+$/, "");
  assert.deepEqual(decodeJwtClaims(`e30.${payload}.sig`), { sub: "u1", email: "a@b.c" });
  assert.equal(decodeJwtClaims("opaque-token"), undefined);
});
