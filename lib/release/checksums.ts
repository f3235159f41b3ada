/**
 * SHA-256 sums in GNU `sha256sum` format (`<64 hex>  <file name>`), as written by
 * `scripts/compile.ts` and the release workflow and checked by `install.sh` and
 * `datumctl update`.
 */

/** The lowercase hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads a sums file into file name → hex digest. Lines that are not sums (blank, comments) are
 * skipped; the `*` binary-mode marker of `sha256sum -b` is accepted.
 */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1].toLowerCase());
  }
  return sums;
}

/** Writes sums in the order given, one `<hex>  <name>` line each, ending with a newline. */
export function formatSums(entries: Iterable<[name: string, hex: string]>): string {
  let text = "";
  for (const [name, hex] of entries) text += `${hex}  ${name}\n`;
  return text;
}
