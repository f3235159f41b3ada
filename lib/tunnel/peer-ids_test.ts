import assert from "node:assert/strict";
import { checkPeerIds, isEndpointId } from "./peer-ids.ts";
import { CliError } from "../core/errors.ts";
import { endpointIdFromSecretKey, generateSecretKey } from "./engine.ts";

/** The endpoint id of the secret key of 32 bytes of 7. */
const PEER = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
/** 64 hex characters that are no point of the curve: the engine refuses them at start. */
const NOT_A_KEY = "5e".repeat(32);

Deno.test("every endpoint id the engine makes is one; the right length is not enough", () => {
  assert.equal(endpointIdFromSecretKey(new Uint8Array(32).fill(7)), PEER);
  for (let i = 0; i < 50; i++) {
    const id = endpointIdFromSecretKey(generateSecretKey());
    assert.ok(isEndpointId(id), id);
    assert.ok(isEndpointId(id.toUpperCase()), "hex of either case");
  }
  for (const bad of [NOT_A_KEY, "ab".repeat(32), "abc", `${PEER}00`, PEER.slice(1), ""]) {
    assert.equal(isEndpointId(bad), false, bad);
  }
});

Deno.test("peer ids from flags and the environment are checked, lowercased, deduplicated", () => {
  const other = endpointIdFromSecretKey(new Uint8Array(32).fill(9));
  assert.deepEqual(checkPeerIds([PEER.toUpperCase()], ` ${PEER}, ,${other}`), [PEER, other]);
  assert.deepEqual(checkPeerIds(undefined, undefined), []);
  for (const bad of ["abc", NOT_A_KEY]) {
    assert.throws(() => checkPeerIds([bad]), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, new RegExp(`invalid peer id "${bad}"`));
      assert.match(err.hint ?? "", /64 hex characters/);
      return true;
    });
  }
  assert.throws(() => checkPeerIds([], `${PEER},zz`), /invalid peer id "zz"/);
});
