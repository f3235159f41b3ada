/**
 * The bridge from `tunnel listen` to the native engine: starts the engine's agent with the relay
 * settings and presents it as the lifecycle's {@link TunnelAgent}.
 *
 * Exports {@link startEngineAgent}. Commands import this module dynamically, so the engine is
 * loaded only when a listener actually starts (after any picker).
 */
import type { StartAgent, TunnelAgent } from "./agent.ts";
import type { AgentAddress } from "./details.ts";
import { type EngineAddress, startAgent } from "./engine.ts";

function toAgentAddress(address: EngineAddress): AgentAddress | undefined {
  if (!address.homeRelay && address.directAddresses.length === 0) return undefined;
  return { relay: address.homeRelay ?? undefined, direct: [...address.directAddresses] };
}

/** Starts the engine's agent for `tunnel listen`. */
export const startEngineAgent: StartAgent = async (
  { secretKey, relay, udpPort, allowedPeers },
) => {
  const agent = await startAgent({
    secretKey,
    relays: relay.mode === "custom" ? relay.urls ?? [] : relay.mode,
    bindAddr: relay.bindAddr,
    udpPort,
    allowedPeers,
  });
  const adapted: TunnelAgent = {
    endpointId: agent.endpointId,
    address: () => toAgentAddress(agent.address()),
    onAddressChange: (callback) => agent.onAddressChange(() => callback()),
    setAllowlist: (targets) =>
      agent.setAllowlist(targets.map((t) => ({ host: t.host, port: t.port, enabled: true }))),
    stats: () => {
      const s = agent.stats();
      return {
        ...s,
        peers: s.peers.map((p) => ({
          endpointId: p.endpointId,
          path: p.path,
          remoteAddr: p.remoteAddr ?? undefined,
          rttMs: p.rttMs ?? undefined,
        })),
      };
    },
    drainRequests: () => agent.drainRequests(),
    capture: () => agent.capture(),
    close: () => agent.close(),
  };
  return adapted;
};
