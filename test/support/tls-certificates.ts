// Throwaway certificates for TLS tests, made by the openssl CLI in a directory of the caller's: a
// self-signed CA, and server certificates it signs for the names a test connects to.
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const openssl = (...args: string[]) => promisify(execFile)("openssl", args);

export interface CertificateAuthority {
  /** The CA's certificate, as a client's CA bundle holds it. */
  certFile: string;
  keyFile: string;
}

export interface ServerCertificate {
  certFile: string;
  keyFile: string;
}

// P-256 keys: made in milliseconds, where RSA keys would take a noticeable part of a second each.
const keyArgs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A self-signed CA named `name`, valid for a day, its files in `dir`. */
export async function makeCertificateAuthority(dir: string, name: string): Promise<CertificateAuthority> {
  const ca = { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}.key`) };
  await openssl("req", "-x509", ...keyArgs, "-keyout", ca.keyFile, "-out", ca.certFile, "-days", "1", "-subj", `/CN=${name}`);
  return ca;
}

/**
 * A server certificate signed by `ca` for the subject alternative names `altNames` (e.g. "DNS:localhost",
 * "IP:127.0.0.1"): the names a client checks, the common name being ignored for that.
 */
export async function issueServerCertificate(ca: CertificateAuthority, dir: string, name: string, altNames: string[]): Promise<ServerCertificate> {
  const server = { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}.key`) };
  const request = path.join(dir, `${name}.csr`);
  const extensions = path.join(dir, `${name}.ext`);
  await openssl("req", ...keyArgs, "-keyout", server.keyFile, "-out", request, "-subj", `/CN=${name}`);
  await fs.writeFile(extensions, `subjectAltName=${altNames.join(",")}\n`);
  await openssl("x509", "-req", "-in", request, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial", "-days", "1", "-extfile", extensions, "-out", server.certFile);
  return server;
}
