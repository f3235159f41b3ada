/**
 * The engine self-test run by `datumctl tunnel self-test` and by the release workflow on every
 * freshly compiled binary: it proves the embedded tunnel engine loads on this platform and
 * carries a real HTTP request through a loopback tunnel.
 *
 * Everything stays on 127.0.0.1 with relays disabled, so it needs no network, no login and no Datum
 * account: a local origin, an agent allowed to reach it, and a gateway (the stand-in for Datum's
 * edge) that routes to the agent over iroh.
 */
import { CliError, ExitCode } from "../core/errors.ts";

/** What the self-test saw. */
export interface EngineSelfTestResult {
  /** `<os>-<arch>` of the engine that loaded. */
  platform: string;
  /** The agent's endpoint id (64 hex). */
  endpointId: string;
  /** The HTTP status the request through the tunnel got. */
  status: number;
  /** Milliseconds from starting the engine to the answer. */
  elapsedMs: number;
}

const ANSWER = "datumctl engine self-test";

/** Opens a loopback tunnel and sends one request through it; throws a CliError on failure. */
export async function runEngineSelfTest(timeoutMs = 20_000): Promise<EngineSelfTestResult> {
  const started = performance.now();
  const { enginePlatform, generateSecretKey, startAgent, startGateway } = await import(
    "../tunnel/engine.ts"
  );
  const origin = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(ANSWER),
  );
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    agent = await startAgent({
      secretKey: generateSecretKey(),
      relays: "disabled",
      bindAddr: "127.0.0.1:0",
    });
    agent.setAllowlist([{ host: "127.0.0.1", port: origin.addr.port, enabled: true }]);
    gateway = await startGateway({ connectTimeoutMs: timeoutMs });
    gateway.setRoutes([{
      // The gateway matches Host without its port, so a plain request to it takes this route.
      hostname: "127.0.0.1",
      endpointId: agent.endpointId,
      directAddresses: agent.address()?.direct ?? [],
      targetHost: "127.0.0.1",
      targetPort: origin.addr.port,
      online: true,
    }]);
    const res = await fetch(`${gateway.url}/`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status !== 200 || body !== ANSWER) {
      throw new CliError(
        "ENGINE_SELF_TEST_FAILED",
        `the loopback tunnel answered HTTP ${res.status} instead of the origin's reply.`,
        { details: body.slice(0, 200), exitCode: ExitCode.error },
      );
    }
    return {
      platform: enginePlatform(),
      endpointId: agent.endpointId,
      status: res.status,
      elapsedMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      "ENGINE_SELF_TEST_FAILED",
      `the loopback tunnel failed: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    await gateway?.close().catch(() => {});
    await agent?.close().catch(() => {});
    await origin.shutdown();
  }
}
