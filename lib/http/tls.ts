/**
 * Which certificate authorities datumctl trusts for an API endpoint, beyond the system store and
 * `DENO_CERT` (which Deno reads itself): the session's `endpoint.certificate-authority-data`
 * (base64 PEM, as in a kubeconfig) and `SSL_CERT_FILE`. Also reads TLS failures out of fetch
 * errors so they can be reported as what they are.
 */

/** The PEM text of a kubeconfig-style `certificate-authority-data` (base64 of the PEM). */
export function pemFromCaData(data: string): string {
  const bytes = Uint8Array.from(atob(data.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** `certificate-authority-data` for a PEM text. */
export function caDataFromPem(pem: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(pem)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The extra CA certificates (PEM) for requests to an endpoint: its session's
 * `certificate-authority-data`, then `SSL_CERT_FILE`. Unreadable sources are skipped: the
 * request then fails with the TLS error, which names the variables to check.
 */
export async function trustedCertificates(
  caData: string | undefined,
  env: (name: string) => string | undefined,
): Promise<string[]> {
  const pems: string[] = [];
  if (caData) {
    try {
      pems.push(pemFromCaData(caData));
    } catch {
      // not base64: ignored, the TLS error will say what to fix
    }
  }
  const file = env("SSL_CERT_FILE");
  if (file) {
    try {
      pems.push(await Deno.readTextFile(file));
    } catch {
      // unreadable: as above
    }
  }
  return pems.filter((p) => p.includes("-----BEGIN CERTIFICATE-----"));
}

const clients = new Map<string, Deno.HttpClient>();

/** One shared HTTP client per set of extra CAs (undefined for none: the default client). */
export function httpClientFor(pems: readonly string[] | undefined): Deno.HttpClient | undefined {
  if (!pems?.length) return undefined;
  const key = pems.join("\n");
  let client = clients.get(key);
  if (!client) {
    client = Deno.createHttpClient({ caCerts: [...pems] });
    clients.set(key, client);
  }
  return client;
}

/** What a TLS failure in a fetch error was, in Go's words where they exist; else undefined. */
export function tlsFailure(err: unknown): string | undefined {
  const texts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    texts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  const text = texts.join(" ");
  if (/UnknownIssuer|unknown ?authority|self[- ]signed/i.test(text)) {
    return "certificate signed by an unknown authority";
  }
  if (/NotValidForName|not valid for name|certificate is valid for/i.test(text)) {
    return "certificate is not valid for this host name";
  }
  if (/Expired|expired certificate/i.test(text)) return "certificate has expired";
  if (/invalid peer certificate|certificate verify|InvalidCertificate|tls handshake/i.test(text)) {
    const detail = text.match(/invalid peer certificate: ([A-Za-z]+)/)?.[1];
    return `TLS handshake failed${detail ? ` (${detail})` : ""}`;
  }
  return undefined;
}
