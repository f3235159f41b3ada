/**
 * The OS keychain (macOS Keychain, Windows Credential Manager, Linux Secret Service) through
 * `@napi-rs/keyring`, loaded only when a secret is actually read or written.
 *
 * Every call is bounded by a timeout because a Secret Service that waits on an unlock prompt nobody
 * can see would otherwise hang the CLI; a keychain that cannot be used throws its own error, so the
 * credential store can fall back. On Linux the Secret Service backend is pinned: the kernel keyring
 * fallback neither persists nor reads back reliably.
 */

/** How long one keychain call may take before we give up on the keychain. */
export const KEYCHAIN_TIMEOUT_MS = 3000;

/** The keychain cannot be used here; `reason` says why, in the platform's words. */
export class KeychainUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`system keyring unavailable (${reason})`);
    this.name = "KeychainUnavailableError";
    this.reason = reason;
  }
}

type KeyringModule = typeof import("@napi-rs/keyring");
let keyringModule: Promise<KeyringModule> | undefined;

function loadKeyring(): Promise<KeyringModule> {
  // A computed specifier: `deno run` resolves the packages a literal import() names whenever this
  // module loads, which every command reading credentials would pay (docs/performance.md).
  const specifier = "@napi-rs/keyring";
  keyringModule ??= import(specifier) as Promise<KeyringModule>;
  return keyringModule;
}

function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0].trim() || "unknown error";
}

async function withEntry<T>(
  service: string,
  key: string,
  op: (entry: InstanceType<KeyringModule["AsyncEntry"]>, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new KeychainUnavailableError(`no answer within ${KEYCHAIN_TIMEOUT_MS / 1000} s`));
    }, KEYCHAIN_TIMEOUT_MS);
  });
  try {
    const work = (async () => {
      const { AsyncEntry } = await loadKeyring();
      const entry = new AsyncEntry(service, key, { linux: { store: "secret-service" } });
      return await op(entry, controller.signal);
    })();
    return await Promise.race([work, timeout]);
  } catch (err) {
    if (err instanceof KeychainUnavailableError) throw err;
    throw new KeychainUnavailableError(reasonOf(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a secret; `undefined` when the keychain holds none under that key. */
export async function keychainGet(service: string, key: string): Promise<string | undefined> {
  const value = await withEntry(service, key, (entry, signal) => entry.getPassword(signal));
  return value ?? undefined;
}

/** Stores (or replaces) a secret. */
export async function keychainSet(service: string, key: string, secret: string): Promise<void> {
  await withEntry(service, key, (entry, signal) => entry.setPassword(secret, signal));
}

/** Deletes a secret; returns whether there was one. */
export async function keychainDelete(service: string, key: string): Promise<boolean> {
  return await withEntry(service, key, (entry, signal) => entry.deleteCredential(signal));
}
