/**
 * HAProxy's crt-list for a model's HTTPS binds: the certificates (the default one first, so it
 * stays HAProxy's default), and for each host that asks client certificates (nginx-proxy's
 * `HOST.ca.crt`) its certificate once more with its CA, its CRL and `verify optional`, selected
 * by the host's name as SNI. Pure.
 *
 * @module
 */
import { clientCaBySni } from "../model/tls.ts";
import type { Model, VirtualHost } from "../types.ts";

/**
 * The crt-list text of `model` (each line after a comment with the versions of its files, so a
 * renewed certificate, CA or CRL changes the list, so its name, so the config); `""` when the
 * model serves no HTTPS.
 *
 * @example
 * ```ts
 * import { buildModel } from "../model/model.ts";
 * import { crtListText } from "./crt_list.ts";
 * console.log(crtListText(buildModel([]).model)); // ""
 * ```
 */
export function crtListText(model: Model): string {
  const listeners = model.httpListeners.flatMap((l) => l.httpsListener ? [l] : []);
  const [first, ...rest] = listeners.flatMap((l) => l.httpsListener!.certificates);
  if (!first) return "";
  const line = (c: { certificate: string; version: string }) =>
    `# version ${c.version}\n${c.certificate}\n`;
  const clientCa = listeners.flatMap((l) => l.virtualHosts.flatMap(clientCaLine));
  return [line(first), ...clientCa, ...rest.map(line)].join("");
}

/** True when `model` needs a crt-list: more certificates than `limit`, or a client CA. */
export function needsCrtList(model: Model, limit: number): boolean {
  const https = model.httpListeners.flatMap((l) => l.httpsListener ? [l.httpsListener] : []);
  return https.some((h) => h.hasClientCa) ||
    https.flatMap((h) => h.certificates).length > limit;
}

/**
 * The line of a host that asks client certificates. SNI filters are names or `*.` wildcards:
 * a regex, a wildcard at the end or an address has none, so HAProxy asks no certificate for
 * it and the HTTP rules answer 400 where one is required.
 */
function clientCaLine(v: VirtualHost): string[] {
  const ca = v.clientCa;
  if (!ca || !v.tls || !v.httpsOn || !clientCaBySni(v)) return [];
  const crl = ca.crl ? ` crl-file ${ca.crl.path}` : "";
  return [
    `# version ${v.tls.version} ca ${ca.version}${ca.crl ? ` crl ${ca.crl.version}` : ""}\n` +
    `${v.tls.certificate} [ca-file ${ca.path}${crl} verify optional] ${v.host}\n`,
  ];
}
