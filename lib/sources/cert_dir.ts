/**
 * The certificate directory (`--cert-dir`), laid out as nginx-proxy keeps it: `NAME.crt`
 * (the certificate and its chain) beside `NAME.key` (its private key), `NAME` a host name
 * or `default`; `NAME.dhparam.pem` beside them gives its hosts their Diffie-Hellman
 * parameters.
 *
 * @module
 */
import { fileErrorReason, LbsyncError } from "../core/errors.ts";
import type { CertificateFiles, ClientCertFile } from "../core/types.ts";
import { fileVersion } from "./file_version.ts";

/** The certificates of a directory, and what is wrong with it. */
export interface CertificateDirectory {
  /** Each usable pair by name. */
  certificates: Map<string, CertificateFiles>;
  /** Client CAs and revocation lists by file name: `NAME.ca.crt`, `NAME.crl.pem`, `ca.crt`, `ca.crl.pem`. */
  clientCertFiles: Map<string, ClientCertFile>;
  /** One line each: a key readable by others, a certificate without its key. */
  warnings: string[];
}

/** What a certificate's name may be: a host name (lowercase) or `default`. */
const NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Reads `dir`: each `NAME.crt` with a `NAME.key` beside it is a certificate. Files with
 * other names are ignored (their names never reach a config file). A key that group or
 * others may read is a warning (as ssh warns about keys), still used.
 *
 * @throws {LbsyncError} when the directory cannot be read
 */
export async function readCertificateDirectory(dir: string): Promise<CertificateDirectory> {
  const root = dir.replace(/\/+$/, "") || "/";
  const names = new Set<string>();
  try {
    for await (const entry of Deno.readDir(root)) names.add(entry.name);
  } catch (error) {
    throw new LbsyncError(
      `Cannot read the certificate directory ${dir}: ${
        fileErrorReason(error, "no such directory")
      }`,
    );
  }
  const certificates = new Map<string, CertificateFiles>();
  const clientCertFiles = new Map<string, ClientCertFile>();
  const warnings: string[] = [];
  for (const file of [...names].sort()) {
    const client = /^(?:(.+)\.)?(ca\.crt|crl\.pem)$/.exec(file);
    if (client) {
      // a client CA or CRL: nginx-proxy's mutual TLS, for a host (or its SHA-1) or all
      if (client[1] !== undefined && (!NAME.test(client[1]) || client[1].length > 253)) continue;
      if (client[1] === undefined && client[2] === "crl.pem") continue;
      const path = `${root}/${file}`;
      clientCertFiles.set(file, { path, version: await fileVersion(path) });
      continue;
    }
    if (!file.endsWith(".crt")) continue;
    const name = file.slice(0, -4);
    if (!NAME.test(name) || name.length > 253) continue;
    if (!names.has(`${name}.key`)) {
      warnings.push(`certificate ${root}/${file} has no key ${name}.key beside it: not used`);
      continue;
    }
    const key = `${root}/${name}.key`;
    const mode = (await Deno.stat(key).catch(() => undefined))?.mode ?? 0;
    if (mode & 0o077) {
      warnings.push(
        `key ${key} is readable by group or others (mode ${
          (mode & 0o777).toString(8)
        }): chmod 600 it`,
      );
    }
    const version = await fileVersion(`${root}/${file}`);
    const dhparamPath = `${root}/${name}.dhparam.pem`;
    const dhparam = names.has(`${name}.dhparam.pem`)
      ? { path: dhparamPath, version: await fileVersion(dhparamPath) }
      : undefined;
    certificates.set(name, {
      name,
      certificate: `${root}/${file}`,
      key,
      version,
      ...(dhparam?.version ? { dhparam } : {}),
    });
  }
  return { certificates, clientCertFiles, warnings };
}
