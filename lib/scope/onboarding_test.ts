import assert from "node:assert/strict";
import { assertOnboarded, onboardingStatusWord, portalUrl } from "./onboarding.ts";
import type { AuthContext } from "../auth/token-source.ts";
import { CliError } from "../core/errors.ts";

const noEnv = () => undefined;

Deno.test("the portal follows the session's environment", () => {
  assert.equal(portalUrl("https://api.datum.net", noEnv), "https://cloud.datum.net");
  assert.equal(
    portalUrl("api.staging.env.datum.net", noEnv),
    "https://cloud.staging.env.datum.net",
  );
  assert.equal(portalUrl("https://api.example.org", noEnv), "https://cloud.example.org");
  assert.equal(portalUrl("http://127.0.0.1:8080", noEnv), "http://127.0.0.1:8080");
  assert.equal(
    portalUrl(
      "http://127.0.0.1:8080",
      (n) => n === "DATUMCTL_PORTAL_URL" ? "http://portal.test/" : undefined,
    ),
    "http://portal.test",
  );
});

Deno.test("status words match get organizations", () => {
  assert.equal(onboardingStatusWord("Ready"), "ready");
  assert.equal(onboardingStatusWord("BillingAccountMissing"), "billing setup needed");
  assert.equal(onboardingStatusWord("Other"), "unknown");
});

Deno.test("only an explicit False gates, with the two-line message; absent is unknown", async () => {
  const orgs: Record<string, unknown> = {
    ready: { conditions: [{ type: "OnboardingComplete", status: "True", reason: "Ready" }] },
    billing: {
      conditions: [{
        type: "OnboardingComplete",
        status: "False",
        reason: "BillingAccountMissing",
      }],
    },
    staleTrue: {
      conditions: [{ type: "OnboardingComplete", status: "True", reason: "PaymentMethodNotReady" }],
    },
    missing: { conditions: [{ type: "Ready", status: "True", reason: "Ready" }] },
  };
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    const id = path.split("/").pop()!;
    return Response.json({
      metadata: { name: id, annotations: { "kubernetes.io/display-name": `Org ${id}` } },
      status: orgs[id],
    });
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const auth: AuthContext = {
      kind: "session",
      identity: { email: "a@example.com", subject: "sub-1" },
      apiBase: base,
      tokens: { accessToken: () => Promise.resolve("t"), expiry: () => Promise.resolve(undefined) },
    };
    const ok = await assertOnboarded(auth, "ready", { env: noEnv });
    assert.equal(ok.complete, true);
    assert.equal(
      seen[0],
      "/apis/iam.miloapis.com/v1alpha1/users/sub-1/control-plane/apis/resourcemanager.miloapis.com/v1alpha1/organizations/ready",
    );
    const expect = async (id: string, sentence: RegExp) =>
      await assert.rejects(() => assertOnboarded(auth, id, { env: noEnv }), (err: unknown) => {
        assert.ok(err instanceof CliError);
        assert.equal(err.code, "ONBOARDING_INCOMPLETE");
        assert.match(err.message, sentence);
        assert.equal(err.hint, `Head to ${base}/org/${id}/projects to finish up.`);
        return true;
      });
    await expect(
      "billing",
      /^Org billing still needs billing set up before you can use datumctl here\.$/,
    );
    // True passes whatever its reason; no condition at all (Datum's server at some versions
    // reports none) is unknown, not "not onboarded".
    assert.equal((await assertOnboarded(auth, "staleTrue", { env: noEnv })).complete, true);
    const missing = await assertOnboarded(auth, "missing", { env: noEnv });
    assert.equal(missing.complete, true);
    assert.equal(missing.reason, "Unknown");
  } finally {
    await server.shutdown();
  }
});
