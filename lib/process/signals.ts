/**
 * The process's stop signals in one place: SIGINT (Ctrl-C) and SIGTERM (SIGINT and SIGBREAK on
 * Windows).
 *
 * Two kinds of code care about them. Commands that stop cleanly on a signal (a tunnel disables
 * itself, `api proxy` lets requests finish) register their handler with {@link onStopSignal}.
 * Writes that must not stop halfway (a rotated refresh token) hold signals back with
 * {@link withSignalsDeferred}. A signal that arrives while one is held is delivered once, when
 * the write is done: to the registered handlers when there are any (so a handler that counts
 * signals, where a second one means "hurry", sees exactly the one that was sent), otherwise
 * raised again so the process stops as it would have.
 */

/** A stop-signal handler; it gets the signal that was sent. */
export type StopSignalHandler = (signal: Deno.Signal) => void;

/** The signals that ask datumctl to stop, on this platform. */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

const handlers = new Map<Deno.Signal, Set<StopSignalHandler>>();
/** The one Deno listener per signal through which every handler is reached. */
const listeners = new Map<Deno.Signal, () => void>();
let deferDepth = 0;
let heldSignal: Deno.Signal | undefined;

function isStopSignal(signal: Deno.Signal): boolean {
  return STOP_SIGNALS.includes(signal);
}

function deliver(signal: Deno.Signal): void {
  for (const handler of [...(handlers.get(signal) ?? [])]) {
    // As a signal would: outside the code that happened to be running.
    queueMicrotask(() => handler(signal));
  }
}

function dispatch(signal: Deno.Signal): void {
  if (deferDepth > 0 && isStopSignal(signal)) {
    heldSignal ??= signal;
    return;
  }
  deliver(signal);
}

/**
 * Listens to `signal` exactly while someone needs it: a handler, or a held write. Without a
 * listener a signal has its usual effect (the process ends).
 */
function syncListener(signal: Deno.Signal): void {
  const needed = (handlers.get(signal)?.size ?? 0) > 0 ||
    (deferDepth > 0 && isStopSignal(signal));
  const current = listeners.get(signal);
  if (needed && !current) {
    const listener = () => dispatch(signal);
    try {
      Deno.addSignalListener(signal, listener);
      listeners.set(signal, listener);
    } catch { /* signal not supported here */ }
  } else if (!needed && current) {
    try {
      Deno.removeSignalListener(signal, current);
    } catch { /* already gone */ }
    listeners.delete(signal);
  }
}

/**
 * Calls `handler` for each of `signals` (default {@link STOP_SIGNALS}) that reaches the
 * process, instead of the signal ending it; returns the function that stops listening. Use it
 * instead of `Deno.addSignalListener` so that a signal held during a write is handled once.
 */
export function onStopSignal(
  handler: StopSignalHandler,
  signals: readonly Deno.Signal[] = STOP_SIGNALS,
): () => void {
  for (const signal of signals) {
    let set = handlers.get(signal);
    if (!set) handlers.set(signal, set = new Set());
    set.add(handler);
    syncListener(signal);
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const signal of signals) {
      handlers.get(signal)?.delete(handler);
      syncListener(signal);
    }
  };
}

/**
 * Runs `fn` with the stop signals held back: one that arrives meanwhile takes effect once `fn`
 * (and every overlapping call) has finished, delivered once to the {@link onStopSignal}
 * handlers, or raised again when there are none, so the process still stops, just not halfway.
 * Several signals during one hold count as the first.
 */
export async function withSignalsDeferred<T>(fn: () => Promise<T>): Promise<T> {
  if (deferDepth++ === 0) { for (const signal of STOP_SIGNALS) syncListener(signal); }
  try {
    return await fn();
  } finally {
    if (--deferDepth === 0) {
      const signal = heldSignal;
      heldSignal = undefined;
      for (const s of STOP_SIGNALS) syncListener(s);
      if (signal && (handlers.get(signal)?.size ?? 0) > 0) {
        deliver(signal);
      } else if (signal) {
        // Our listener is gone, so it has its usual effect now (or reaches a listener added
        // with Deno.addSignalListener directly).
        try {
          Deno.kill(Deno.pid, signal);
        } catch { /* cannot signal ourselves here */ }
      }
    }
  }
}
