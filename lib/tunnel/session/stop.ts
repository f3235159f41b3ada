/**
 * The stop phase: disable the tunnel this session enabled (or forget one deleted on the
 * server), stop the heartbeat, token keeper and agent within short waits, remember the address
 * and the time of this stop for the next run, and emit `stopped`.
 */
import { writePrivateFile } from "../../store/files.ts";
import type { TunnelAgent } from "../agent.ts";
import type { TunnelEvent } from "../events.ts";
import type { Heartbeat } from "../heartbeat.ts";
import type { AddressMemory } from "../stable-address.ts";
import { removeTunnelEntry } from "../state.ts";
import type { TokenKeeper } from "../token-keeper.ts";
import type { TunnelService } from "../tunnel-api.ts";
import type { WakeDetector } from "../wake.ts";
import { type SessionEnding, stoppedEvent } from "./ending.ts";

/** What is running while a session serves: everything the stop phase closes. */
export interface RunningParts {
  agent: TunnelAgent;
  heartbeat: Heartbeat;
  keeper: TokenKeeper;
  wakeDetector: WakeDetector;
  addressMemory: AddressMemory;
}

/** What the stop phase needs besides the running parts. */
export interface StopContext {
  service: TunnelService;
  repo: string;
  /** `<repo>/projects/<pid>/last_stop`. */
  lastStopFile: string;
  emit: (event: TunnelEvent) => void;
  /** A second signal: give up on clean-up waits. */
  force?: AbortSignal;
}

/** Stops everything and emits `stopped`; `enabledId` is the tunnel to disable, if any. */
export async function stopSession(
  parts: RunningParts,
  ctx: StopContext,
  enabledId: string | undefined,
  ending: SessionEnding,
): Promise<void> {
  const { emit, force } = ctx;
  let disabled = false;
  if (enabledId && ending.reason === "deleted_upstream") {
    // Nothing left to disable; forget the local entry of the deleted tunnel.
    await removeTunnelEntry(ctx.repo, enabledId).catch(() => {});
  } else if (enabledId) {
    emit({ type: "phase", phase: "disabling" });
    const giveUp = AbortSignal.any([AbortSignal.timeout(15_000), ...(force ? [force] : [])]);
    try {
      await raceAbort(ctx.service.setEnabled(enabledId, false), giveUp);
      disabled = true;
      emit({ type: "phase", phase: "disabled" });
    } catch (err) {
      emit({
        type: "warning",
        code: "disable_failed",
        message: `could not disable tunnel ${enabledId}: ${(err as Error).message}`,
      });
    }
  }
  // A cycle stuck in a slow request must not hold the exit for long.
  const brief = () => AbortSignal.any([AbortSignal.timeout(5_000), ...(force ? [force] : [])]);
  parts.wakeDetector.stop();
  await raceAbort(parts.keeper.stop(), brief()).catch(() => {});
  await raceAbort(parts.heartbeat.stop(), brief()).catch(() => {});
  await raceAbort(parts.agent.close(), brief()).catch(() => {});
  await parts.addressMemory.flush();
  await writePrivateFile(ctx.lastStopFile, new Date().toISOString() + "\n").catch(() => {});
  emit(stoppedEvent(ending, disabled));
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return await promise;
  if (signal.aborted) throw new Error("gave up");
  return await new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("gave up waiting"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
