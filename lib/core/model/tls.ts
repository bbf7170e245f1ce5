/**
 * HTTPS for the hosts of the default HTTP listener (`--cert-dir`): which certificate each
 * host uses, how it is served (`lbsync.https`), and what the HTTPS listener needs. Pure: the
 * certificates found come in as a map from their names to their files.
 *
 * @module
 */
import type { ModelSettings } from "./model_settings.ts";
import { DEFAULTS } from "../defaults.ts";
import { bindings, groupsOf, hostOwner } from "./routing.ts";
import { hostFileName } from "./operator_files.ts";
import type {
  CertificateFiles,
  ClientCertFile,
  ClientVerification,
  HttpListener,
  HttpsBind,
  Model,
  Service,
  VirtualHost,
} from "../types.ts";

/** The name of the certificate for hosts without one of their own. */
export const DEFAULT_CERTIFICATE = "default";

/**
 * The certificate of `host`: the one `certName` names when set, else the host's own name,
 * else its closest parent domain's (a wildcard certificate for `a.example.com` is found as
 * `example.com`); `*.example.com` looks for `example.com`. Regex hosts have none.
 *
 * @example
 * ```ts
 * import { certificateFor } from "./tls.ts";
 * const certs = new Map([["example.com", { name: "example.com", certificate: "/c/example.com.crt", key: "/c/example.com.key" }]]);
 * console.log(certificateFor("shop.example.com", "", certs)?.name); // example.com
 * ```
 */
export function certificateFor(
  host: string,
  certName: string,
  certificates: ReadonlyMap<string, CertificateFiles>,
): CertificateFiles | undefined {
  if (certName !== "") return certificates.get(certName);
  // a regex or a wildcard at the end (www.example.*) names no domain a certificate is for
  if (host.startsWith("~") || host.endsWith(".*")) return undefined;
  const labels = (host.startsWith("*.") ? host.slice(2) : host).split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const found = certificates.get(labels.slice(i).join("."));
    if (found) return found;
  }
  return undefined;
}

/**
 * The default listener with HTTPS decided: each virtual host's certificate and mode, and the
 * HTTPS listener when a host is served over HTTPS or a default certificate exists.
 */
export function withHttps(
  listener: HttpListener,
  services: readonly Service[],
  options: ModelSettings,
): HttpListener {
  const certificates = options.certificates;
  if (!certificates) return listener;
  const byName = new Map(services.map((s) => [s.name, s]));
  const bindOf = (port: number): HttpsBind => ({
    ...bindings(port, options.listenAddress, options.enableIpv6),
    redirectPort: port === 443 ? "" : `:${port}`,
    name: `lbsync-https-${port}`,
  });
  const virtualHosts = listener.virtualHosts.map((v) => {
    const owner = byName.get(hostOwner(v) ?? "");
    const served = hostWithHttps(v, owner, certificates, options);
    const code = owner?.nonGetRedirect || options.nonGetRedirect || 301;
    const nonGet = served.redirectToHttps && code !== 301 ? { nonGetRedirect: code } : {};
    const clientCa = served.httpsOn
      ? clientCaOf(served, owner, options.clientCertFiles)
      : undefined;
    const httpsBind = bindOf(owner?.httpsListen || options.httpsListen);
    return withAcmeWebroot(
      { ...served, ...nonGet, httpsBind, ...(clientCa ? { clientCa } : {}) },
      owner,
      options,
    );
  });
  const served = virtualHosts.filter((v) => v.httpsOn);
  const defaultCertificate = certificates.get(DEFAULT_CERTIFICATE);
  // with a certificate directory the HTTPS port always listens, as nginx-proxy's: with no
  // certificate to serve, nginx refuses the handshake there
  const port = options.httpsListen;
  const own = virtualHosts.filter((v) => v.httpsOn || v.refusedHttps)
    .map((v) => v.httpsBind!.port).filter((p) => p !== port);
  const binds = [port, ...[...new Set(own)].sort((a, b) => a - b)].map(bindOf);
  const used = new Map<string, CertificateFiles>();
  if (defaultCertificate) used.set(defaultCertificate.name, defaultCertificate);
  for (const v of served) used.set(v.tls!.name, v.tls!);
  const keys = (test: (v: VirtualHost) => boolean) =>
    groupsOf(virtualHosts.filter(test).map((v) => v.key));
  const onPort = (b: HttpsBind) => (v: VirtualHost) => v.httpsBind!.port === b.port;
  return {
    ...listener,
    virtualHosts,
    httpsPorts: binds.map((b) => b.port),
    httpsListener: {
      ...binds[0],
      binds,
      hasOwnPorts: binds.length > 1,
      portGroups: binds.flatMap((b) =>
        keys((v) => v.httpsOn && onPort(b)(v)).map((group) => ({ name: b.name, keys: group }))
      ),
      certificates: [...used.values()],
      hasCertificates: used.size > 0,
      defaultCertificate,
      redirectGroups: binds.flatMap((b) =>
        keys((v) => v.redirectToHttps && onPort(b)(v))
          .map((group) => ({ keys: group, redirectPort: b.redirectPort }))
      ),
      hasClientCa: served.some((v) => v.clientCa),
      clientCaGroups: keys((v) => v.clientCa !== undefined),
      requiredClientCaGroups: keys((v) => v.clientCa?.verify === "on"),
      httpsOnlyGroups: keys((v) => !v.httpOn),
      httpOnlyGroups: keys((v) => !v.httpsOn),
      hstsHosts: served.filter((v) => v.hsts !== "").map((v) => ({ key: v.key, hsts: v.hsts })),
      nonGetRedirects: virtualHosts.flatMap((v) =>
        v.nonGetRedirect === 0
          ? []
          : [{ key: v.key, code: v.nonGetRedirect, redirectPort: v.httpsBind!.redirectPort }]
      ),
    },
  };
}

/**
 * True when HAProxy can ask a host's client certificates: a crt-list line is chosen by SNI
 * filters, which are names or `*.` wildcards, so not for a regex, a wildcard at the end or an
 * address (HAProxy asks those none, and answers 400 where one is required).
 *
 * @example
 * ```ts
 * import { clientCaBySni } from "./tls.ts";
 * const v = { host: "~^a\\.test$", regex: true, suffixWildcard: false };
 * console.log(clientCaBySni({ ...v, host: "a.test", regex: false }), clientCaBySni(v)); // true false
 * ```
 */
export function clientCaBySni(v: Pick<VirtualHost, "host" | "regex" | "suffixWildcard">): boolean {
  return !v.regex && !v.suffixWildcard && !/^\[|^[0-9.]+$/.test(v.host);
}

/**
 * The host names that want certificates from the ACME server: the exact names (no wildcard,
 * no regex: HTTP-01 cannot prove those) of services with `lbsync.acme=true`, sorted.
 */
export function acmeHosts(model: Model): string[] {
  const hosts = new Set<string>();
  for (const service of model.services) {
    if (!service.acme || service.mode !== "http") continue;
    for (const host of service.hosts) {
      if (!host.includes("*") && !host.startsWith("~")) hosts.add(host);
    }
  }
  return [...hosts].sort();
}

/**
 * `--acme-webroot`: a host served over HTTP and HTTPS answers ACME challenges over HTTP from the
 * directory, unless its service says `lbsync.acmewebroot=false` (or, with
 * `--acme-webroot-opt-in`, does not say `true`); lbsync's own ACME takes precedence.
 */
function withAcmeWebroot(
  v: VirtualHost,
  owner: Service | undefined,
  options: ModelSettings,
): VirtualHost {
  const said = owner?.acmeWebroot ?? "";
  const wanted = said === "" ? !options.acmeWebrootOptIn : said === "true";
  const on = options.acmeWebroot !== undefined && !options.acmeChallenge && wanted &&
    v.httpOn && v.httpsOn;
  return on ? { ...v, acmeWebroot: options.acmeWebroot! } : v;
}

/**
 * How `v` is served, as nginx-proxy decides it: its own certificate (or its parent domain's,
 * or `lbsync.cert`'s), else `default.crt` when its service trusts it; the service's
 * `lbsync.https`, else `--https-method`. With no certificate to use, `redirect` and `nohttp`
 * become `noredirect` unless `lbsync.httponmissingcert=false`, and nginx refuses the
 * handshake for it unless it is `nohttps`.
 */
function hostWithHttps(
  v: VirtualHost,
  owner: Service | undefined,
  certificates: ReadonlyMap<string, CertificateFiles>,
  options: ModelSettings,
): VirtualHost {
  const own = certificateFor(v.host, owner?.certName ?? "", certificates);
  const trustSaid = owner?.trustDefaultCert ?? "";
  const trusted = trustSaid === ""
    ? options.trustDefaultCert ?? options.compat === "nginx-proxy"
    : trustSaid === "true";
  // a regex host has no certificate of its own, but the default one serves it as any other
  const tls = own ?? (trusted ? certificates.get(DEFAULT_CERTIFICATE) : undefined);
  let https = owner?.https || options.httpsMethod || DEFAULTS.httpsMode;
  if (!tls) {
    const httpSaid = owner?.httpOnMissingCert ?? "";
    const httpOnMissing = httpSaid === "" ? options.httpOnMissingCert ?? true : httpSaid === "true";
    if (httpOnMissing && (https === "redirect" || https === "nohttp")) https = "noredirect";
    return {
      ...v,
      httpsMode: https,
      httpOn: https !== "nohttp",
      redirectToHttps: https === "redirect",
      refusedHttps: https !== "nohttps",
    };
  }
  const httpsOn = https !== "nohttps";
  return {
    ...v,
    tls,
    httpsMode: https,
    httpOn: https !== "nohttp",
    httpsOn,
    redirectToHttps: https === "redirect",
    hsts: httpsOn ? owner?.hsts ?? "" : "",
  };
}

/**
 * nginx-proxy's mutual TLS: `HOST.ca.crt` (a regex host's by its SHA-1) with `HOST.crl.pem`,
 * else the directory's `ca.crt` with `ca.crl.pem`; verified as `lbsync.sslverifyclient` says.
 */
function clientCaOf(
  v: VirtualHost,
  owner: Service | undefined,
  files: ReadonlyMap<string, ClientCertFile> | undefined,
): ClientVerification | undefined {
  if (!files) return undefined;
  const name = hostFileName(v);
  const [ca, crl] = files.has(`${name}.ca.crt`)
    ? [files.get(`${name}.ca.crt`)!, files.get(`${name}.crl.pem`)]
    : [files.get("ca.crt"), files.get("ca.crl.pem")];
  if (!ca) return undefined;
  const optional = owner?.sslVerifyClient === "optional";
  return {
    ...ca,
    verify: optional ? "optional" : "on",
    ...(crl ? { crl } : {}),
  };
}
