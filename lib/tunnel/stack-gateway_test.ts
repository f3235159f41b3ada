import assert from "node:assert/strict";
import { findStackGateway, STACK_GATEWAY_ADDRESS_TYPE, stackGatewayIn } from "./stack-gateway.ts";
import type { HTTPProxy } from "./resources.ts";

function proxyWith(...values: string[]): HTTPProxy {
  return {
    metadata: { name: "tunnel-x" },
    status: { addresses: values.map((value) => ({ type: STACK_GATEWAY_ADDRESS_TYPE, value })) },
  };
}

Deno.test("the local stack's gateway is followed for a .localhost tunnel to a loopback IP", () => {
  const host = "quiet-fox.datumproxy.localhost";
  assert.equal(stackGatewayIn(proxyWith("http://127.0.0.1:39123"), host), "http://127.0.0.1:39123");
  assert.equal(stackGatewayIn(proxyWith("http://127.8.0.1:80/"), host), "http://127.8.0.1");
  assert.equal(stackGatewayIn(proxyWith("http://[::1]:8080"), host), "http://[::1]:8080");
  assert.equal(
    stackGatewayIn(proxyWith("http://127.0.0.1:1"), "x.LOCALHOST."),
    "http://127.0.0.1:1",
  );
  // The first acceptable address wins; unusable ones before it are skipped.
  assert.equal(
    stackGatewayIn(proxyWith("http://10.0.0.1:80", "http://127.0.0.1:2"), host),
    "http://127.0.0.1:2",
  );
});

Deno.test("a server can never point the public-URL check anywhere else", () => {
  const local = "quiet-fox.datumproxy.localhost";
  // A real hostname: the check always goes to https://<hostname>/, whatever the status says.
  for (const host of ["quiet-fox.datumproxy.net", "localhost.evil.example", "localhost"]) {
    assert.equal(stackGatewayIn(proxyWith("http://127.0.0.1:39123"), host), undefined, host);
  }
  // Under .localhost, only http:// to a loopback IP literal, with nothing else in the URL.
  for (
    const value of [
      "http://10.0.0.1:8080",
      "http://192.168.1.1",
      "http://169.254.169.254/",
      "http://localhost:8080", // a name needs a DNS lookup: not followed
      "http://127.0.0.1.evil.example:80",
      "http://127.0.0.1:80/path",
      "http://127.0.0.1:80/?q=1",
      "http://user:pw@127.0.0.1:80",
      "https://127.0.0.1:8443",
      "file:///etc/passwd",
      "127.0.0.1:8080",
      "",
    ]
  ) {
    assert.equal(stackGatewayIn(proxyWith(value), local), undefined, value);
  }
  // Other address types (what a real edge may publish) are never used.
  const ip: HTTPProxy = {
    metadata: { name: "tunnel-x" },
    status: { addresses: [{ type: "IPAddress", value: "127.0.0.1" }] },
  };
  assert.equal(stackGatewayIn(ip, local), undefined);
  assert.equal(stackGatewayIn(undefined, local), undefined);
  assert.equal(
    stackGatewayIn({ metadata: { name: "x" }, status: { addresses: "nope" } }, local),
    undefined,
  );
});

Deno.test("findStackGateway asks for the HTTPProxy only for a .localhost hostname", async () => {
  let asked = 0;
  const getProxy = () => {
    asked++;
    return Promise.resolve(proxyWith("http://127.0.0.1:5"));
  };
  assert.equal(await findStackGateway("a.datumproxy.net", getProxy), undefined);
  assert.equal(asked, 0);
  assert.equal(await findStackGateway("a.datumproxy.localhost", getProxy), "http://127.0.0.1:5");
  assert.equal(asked, 1);
  const failing = () => Promise.reject(new Error("down"));
  assert.equal(await findStackGateway("a.datumproxy.localhost", failing), undefined);
});
