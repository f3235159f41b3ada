/**
 * Certificates for the stack's HTTPS: a throwaway CA and a server certificate for 127.0.0.1 and
 * localhost signed by it, made with the `openssl` command in a folder of their own.
 */

/** The files and PEM texts of a CA and the server certificate it signed. */
export interface StackCertificates {
  /** Folder holding the files (removed by the caller when done). */
  dir: string;
  caPath: string;
  caPem: string;
  certPath: string;
  certPem: string;
  keyPath: string;
  keyPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output()
    .catch((e) => {
      throw new Error(`openssl is needed for TLS certificates (${(e as Error).message})`);
    });
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Makes a CA and a 127.0.0.1/localhost server certificate in a new temporary folder. */
export async function makeCertificates(): Promise<StackCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "datum-local-tls-" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "30",
    "-subj",
    "/CN=Datum local stack CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  await openssl([
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "30",
    "-extfile",
    "server.ext",
  ], dir);
  await Deno.chmod(`${dir}/server.key`, 0o600);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    dir,
    caPath: `${dir}/ca.crt`,
    caPem: await read("ca.crt"),
    certPath: `${dir}/server.crt`,
    certPem: await read("server.crt"),
    keyPath: `${dir}/server.key`,
    keyPem: await read("server.key"),
  };
}
