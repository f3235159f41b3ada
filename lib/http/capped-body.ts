/**
 * Reading response bodies with a ceiling, so that a hostile or broken server cannot make the
 * CLI buffer without end (a 400 MB token answer once ran the process out of memory).
 *
 * Every reader stops reading at the cap and cancels the rest of the stream.
 */
import { CliError, ExitCode } from "../core/errors.ts";

/** The most datumctl buffers of one control-plane answer: 16 MiB. */
export const MAX_API_RESPONSE_BYTES = 16 * 1024 * 1024;
/** The most datumctl buffers of a token, discovery, JWKS or userinfo answer: 1 MiB. */
export const MAX_AUTH_RESPONSE_BYTES = 1024 * 1024;

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

/** A server answered with more than datumctl reads: bad data from the server (exit 65). */
export class ResponseTooLargeError extends CliError {
  constructor(what: string, limit: number) {
    super("RESPONSE_TOO_LARGE", `${what} is larger than ${mib(limit)}, so it was not read`, {
      hint: "No valid answer is that large; check the server address, or report it.",
      exitCode: ExitCode.dataError,
    });
    this.name = "ResponseTooLargeError";
  }
}

/** `what` for messages: "the answer from HOST". */
function answerFrom(response: Response, fallback: string): string {
  try {
    return `the answer from ${new URL(response.url).host}`;
  } catch {
    return fallback;
  }
}

/**
 * Reads at most `limit` bytes of a body. With `truncate`, returns what fits and drops the rest;
 * otherwise throws {@link ResponseTooLargeError} as soon as the body (or its Content-Length)
 * passes the cap.
 */
async function readLimited(
  response: Response,
  limit: number,
  what: string,
  truncate: boolean,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(response.headers.get("content-length"));
  if (!truncate && Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(what, limit);
  }
  if (!response.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      if (total + value.byteLength > limit) {
        if (!truncate) throw new ResponseTooLargeError(what, limit);
        chunks.push(value.subarray(0, limit - total));
        total = limit;
        break;
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(new ArrayBuffer(total));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

/** The body as text, or {@link ResponseTooLargeError} when it is longer than `limit` bytes. */
export async function readLimitedText(
  response: Response,
  limit: number,
  what = answerFrom(response, "the server's answer"),
): Promise<string> {
  return new TextDecoder().decode(await readLimited(response, limit, what, false));
}

/**
 * Hands the body to `write` chunk by chunk (one chunk in memory at a time) and returns its size;
 * throws {@link ResponseTooLargeError} as soon as the body (or its Content-Length) passes
 * `limit`, before the chunk that would pass it is written.
 */
export async function copyLimited(
  response: Response,
  limit: number,
  write: (chunk: Uint8Array) => Promise<void> | void,
  what = answerFrom(response, "the server's answer"),
): Promise<number> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(what, limit);
  }
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let total = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw new ResponseTooLargeError(what, limit);
      await write(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return total;
}

/** The first `limit` bytes of the body as text (for error bodies, which only feed a message). */
export async function readTruncatedText(response: Response, limit: number): Promise<string> {
  return new TextDecoder().decode(await readLimited(response, limit, "", true));
}

/**
 * A `fetch` whose answers arrive already read within `limit` bytes (the body of the returned
 * Response is a copy in memory), for libraries such as oauth4webapi that read bodies themselves.
 * A longer answer rejects with {@link ResponseTooLargeError}.
 */
export function limitedFetch(limit: number): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = await readLimited(
      response,
      limit,
      answerFrom(response, "the sign-in server's answer"),
      false,
    );
    const copy = new Response(
      [101, 204, 205, 304].includes(response.status) ? null : body,
      { status: response.status, statusText: response.statusText, headers: response.headers },
    );
    // Keep the address (oauth4webapi and messages may read it); a new Response has none.
    Object.defineProperty(copy, "url", { value: response.url });
    return copy;
  };
}
