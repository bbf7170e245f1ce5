/** Certificates for tests, made by openssl. */
import assert from "node:assert/strict";
import { requireTool, run } from "./tools.ts";

/**
 * A self-signed certificate for `name` in `dir` (`NAME.crt`, `NAME.key`, key mode 600), each
 * file renamed into place whole, as a certificate directory sees a new pair.
 */
export async function makeCertificate(dir: string, name: string): Promise<void> {
  const r = await run([
    requireTool("openssl"),
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${dir}/${name}.key.new`,
    "-out",
    `${dir}/${name}.crt.new`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  await Deno.chmod(`${dir}/${name}.key.new`, 0o600);
  await Deno.rename(`${dir}/${name}.key.new`, `${dir}/${name}.key`);
  await Deno.rename(`${dir}/${name}.crt.new`, `${dir}/${name}.crt`);
}
