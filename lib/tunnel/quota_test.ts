import assert from "node:assert/strict";
import { isQuotaCheckTimeout, QUOTA_RETRY_DELAYS_MS, withQuotaCheckRetry } from "./quota.ts";
import { apiErrorFromResponse } from "../api/errors.ts";

const TIMEOUT = Object.assign(
  new Error(
    "Your request took too long to be checked against your quota. Please try again in a moment — if this keeps happening, contact support.",
  ),
  { httpStatus: 403, status: { kind: "Status", code: 403 } },
);
const EXHAUSTED = Object.assign(new Error("Insufficient quota for HTTPProxy"), { status: 403 });

Deno.test("only the quota-check timeout is retried: 1, 2, 4, 8 s then one last try", async () => {
  const slept: number[] = [];
  const notices: string[] = [];
  let calls = 0;
  await assert.rejects(
    withQuotaCheckRetry("create HTTPProxy", () => {
      calls++;
      return Promise.reject(TIMEOUT);
    }, { sleep: (ms) => (slept.push(ms), Promise.resolve()), onNotice: (t) => notices.push(t) }),
    (err) => err === TIMEOUT,
  );
  assert.equal(calls, 5);
  assert.deepEqual(slept, [...QUOTA_RETRY_DELAYS_MS]);
  assert.deepEqual(notices, [
    "… quota check timed out for create HTTPProxy; retrying for up to 15s",
  ]);
});

Deno.test("a retried create that succeeds returns its value; other 403s fail at once", async () => {
  let calls = 0;
  const value = await withQuotaCheckRetry("create Connector", () => {
    calls++;
    return calls < 3 ? Promise.reject(TIMEOUT) : Promise.resolve("ok");
  }, { sleep: () => Promise.resolve() });
  assert.equal(value, "ok");
  calls = 0;
  await assert.rejects(
    withQuotaCheckRetry("create Connector", () => {
      calls++;
      return Promise.reject(EXHAUSTED);
    }, { sleep: () => Promise.resolve() }),
    /Insufficient quota/,
  );
  assert.equal(calls, 1);
  assert.equal(isQuotaCheckTimeout(TIMEOUT), true);
  assert.equal(isQuotaCheckTimeout({ status: 500, message: TIMEOUT.message }), false);
});

Deno.test("the client's ApiError for the quota timeout is recognised; a 403 denial is not", () => {
  const url = "http://127.0.0.1:1/apis/x/v1/namespaces/default/connectors";
  const timeout = apiErrorFromResponse(
    "POST",
    url,
    403,
    "Forbidden",
    JSON.stringify({ kind: "Status", code: 403, reason: "Forbidden", message: TIMEOUT.message }),
  );
  assert.equal(isQuotaCheckTimeout(timeout), true);
  const denied = apiErrorFromResponse(
    "POST",
    url,
    403,
    "Forbidden",
    JSON.stringify({ kind: "Status", code: 403, reason: "Forbidden", message: "not allowed" }),
  );
  assert.equal(isQuotaCheckTimeout(denied), false);
});
