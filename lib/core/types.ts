/**
 * The shapes that flow through lbsync's pure core:
 * Docker API JSON -> {@link ContainerInfo}[] -> {@link Model} -> configuration text.
 *
 * @module
 */
import type { SettingHint, SkipCode } from "./errors.ts";

/** Docker health of a container: `none` when it has no HEALTHCHECK. */
export type ContainerHealth = "none" | "starting" | "healthy" | "unhealthy";

/** One network a container is attached to. */
export interface ContainerNetwork {
  /** Network name, e.g. `bridge` or `app_default`. */
  name: string;
  /** IPv4 address on that network, `""` when none. */
  ip: string;
  /** Global IPv6 address on that network, `""` when none. */
  ipv6: string;
}

/** A host binding of a published container port. */
export interface PortBinding {
  /** Host IP as Docker reports it (`0.0.0.0` and `::` mean every address). */
  hostIp: string;
  /** Host port. */
  hostPort: number;
}

/** A port the container exposes, and where it is published on the host. */
export interface ContainerPort {
  /** Container port. */
  port: number;
  /** `tcp`, `udp` or `sctp`. */
  protocol: string;
  /** Host bindings; empty when the port is exposed but not published. */
  published: PortBinding[];
}

/** A container, normalized from either a Docker list summary or an inspect object. */
export interface ContainerInfo {
  /** Full container id (64 hex digits from a real engine). */
  id: string;
  /** Container name without the leading `/`. */
  name: string;
  /** Image reference the container was created from. */
  image: string;
  /** Container labels. */
  labels: Record<string, string>;
  /** Docker state: `running`, `paused`, `exited`, `created`, `restarting`, `removing`, `dead`. */
  state: string;
  /** Docker health status. */
  health: ContainerHealth;
  /** Networks, sorted by name. */
  networks: ContainerNetwork[];
  /** Docker network mode, e.g. `default`, `bridge`, `host`, `container:ID`. */
  networkMode: string;
  /** Exposed ports, sorted by port then protocol. */
  ports: ContainerPort[];
  /** Creation time in milliseconds since the epoch. */
  created: number;
  /** The engine the container was listed from (`""` for a single source). */
  engine: string;
  /**
   * `VIRTUAL_HOST`, `VIRTUAL_PORT`, `VIRTUAL_PATH` from its environment, when an inspect
   * object gave them (`--compat nginx-proxy`); no other variable is kept.
   */
  env?: Record<string, string>;
  /** Why the container cannot be served as configured (a setting lbsync does not support). */
  refused?: string;
}

/** How a server's address is chosen. */
export type AddressMode = "network" | "published";

/** Traffic mode of a service. */
export type ServiceMode = "http" | "tcp";

/** One backend server of a service: a container's address and port. */
export interface Server {
  /** Server name, unique within its service (the container name, made unique if needed). */
  name: string;
  /** Short container id (12 hex digits). */
  id: string;
  /** Full container id. */
  containerId: string;
  /** Engine the container runs on (`""` for a single source). */
  engine: string;
  /** IP address, IPv4 or IPv6 (no brackets). */
  address: string;
  /** Port the balancer connects to. */
  port: number;
  /** `address:port`, with brackets around an IPv6 address. */
  endpoint: string;
  /** Relative weight, 1..256. */
  weight: number;
  /** Serves only when no primary server is up (when a service has only backup servers,
   * they serve as primaries and this is false). */
  backup: boolean;
  /** Server state; `up` for every server in the pool. */
  state: "up";
  /** True for a fixed server from a static service (`--config` `services`). */
  static: boolean;
}

/** A route a service holds: an http (port, host, path prefix), or a tcp port. */
export interface ServiceRoute {
  /** Listening port. */
  port: number;
  /** Host name (`*.example.com` allowed); `""`: the default host, and for tcp. */
  host: string;
  /** Path prefix; `""` for tcp. */
  path: string;
}

/** A backend service: one nginx upstream, one HAProxy backend. */
export interface Service {
  /** Service name, from `lbsync.service` and its defaults; unique without regard to case. */
  name: string;
  /**
   * The name of its nginx upstream / HAProxy backend: `--name-prefix` (default `lbsync_`)
   * and the service name, so that no label can name anything else in the balancer.
   */
  backend: string;
  /** The routes it holds (decided oldest first: see the README's routing rules). */
  routes: ServiceRoute[];
  /** `http` or `tcp`. */
  mode: ServiceMode;
  /** Host names the service answers for (`*.example.com` allowed); empty: the default route. */
  hosts: string[];
  /** Path prefix routed to the service (http). */
  path: string;
  /**
   * `lbsync.dest`: what replaces the `path` prefix in the request the servers get (nginx-proxy's
   * `VIRTUAL_DEST`); `""`: the path goes as requested.
   */
  dest: string;
  /** With `dest`: the length of `path`, where the rest of a request's path starts (HAProxy). */
  destOffset: number;
  /** Port the balancer listens on for this service. */
  listen: number;
  /** HTTP health path, `""` when none. */
  health: string;
  /** True when `health` is set. */
  hasHealth: boolean;
  /** Rollover: only the newest ready container serves; older ones are retired. */
  rollover: boolean;
  /** Servers, sorted by name then id. */
  servers: Server[];
  /** True when the service has at least one server. */
  hasServers: boolean;
  /**
   * With `--nginx-dns`: the name lbsync's DNS server answers with the service's addresses
   * (`web.lbsync.internal`); `""` otherwise, or when the name is not a DNS name.
   */
  dnsName: string;
  /** With `--nginx-dns`: the port every server of the service listens on; 0 when they differ. */
  dnsPort: number;
  /** `lbsync.https`: how its hosts are served when they have a certificate; `""`: the default. */
  https: HttpsMode | "";
  /** `lbsync.hsts`: the Strict-Transport-Security value over HTTPS, `""` for none. */
  hsts: string;
  /** `lbsync.cert`: the certificate name its hosts use (`NAME.crt`), `""`: found by host. */
  certName: string;
  /** `lbsync.acme`: its exact host names get certificates from the ACME server. */
  acme: boolean;
  /** `lbsync.acmewebroot`: answer its HTTPS hosts' ACME challenges from `--acme-webroot`; `""`: the default. */
  acmeWebroot: "" | "true" | "false";
  /** `lbsync.nongetredirect`: the HTTPS redirect's status for non-GET requests; 0: the default. */
  nonGetRedirect: RedirectCode | 0;
  /**
   * `lbsync.trustdefaultcert`: a host of it without a certificate of its own is served over
   * HTTPS with `default.crt`; `""`: `--trust-default-cert`.
   */
  trustDefaultCert: "" | "true" | "false";
  /**
   * `lbsync.httponmissingcert`: a host of it with no certificate to use stays on HTTP whatever
   * `lbsync.https` says; `""`: `--http-on-missing-cert`.
   */
  httpOnMissingCert: "" | "true" | "false";
  /** `lbsync.sslverifyclient`: with a client CA, `optional` lets clients without a good certificate in; `""`: `on`. */
  sslVerifyClient: "" | "on" | "optional";
  /** `lbsync.servertokens`: nginx's `server_tokens` for its hosts; `""`: nginx's default. */
  serverTokens: "" | "on" | "off";
  /** `lbsync.httpslisten`: the HTTPS port of its hosts; 0: `--https-listen`. */
  httpsListen: number;
  /** `lbsync.access=internal`: only clients of the internal networks are served. */
  internalOnly: boolean;
  /** `lbsync.balance`: how requests spread over the servers (HAProxy's name). */
  balance: Balance;
  /** nginx's directive for `balance` in an http upstream: `least_conn`, `hash $remote_addr`, `random`, or `""`. */
  nginxBalance: string;
  /** nginx's directive for `balance` in a stream upstream (`hash $remote_addr consistent` for source). */
  nginxStreamBalance: string;
  /** `lbsync.keepalive`: idle connections nginx keeps to the servers (0: none). */
  keepalive: number;
  /** `lbsync.proto`: `https` when the servers speak TLS. */
  scheme: "http" | "https";
  /** True when `scheme` is `https`. */
  backendTls: boolean;
}

/** How requests spread over a service's servers. */
export type Balance = "roundrobin" | "leastconn" | "source" | "random";

/**
 * How a host with a certificate is served (nginx-proxy's `HTTPS_METHOD`): `redirect` (HTTP
 * answers 301 to HTTPS, except ACME challenges), `noredirect` (both), `nohttp` (HTTPS only),
 * `nohttps` (HTTP only).
 */
export type HttpsMode = "redirect" | "noredirect" | "nohttp" | "nohttps";

/** An HTTP redirect status. */
export type RedirectCode = 301 | 302 | 303 | 307 | 308;

/** A client CA or revocation list of the certificate directory. */
export interface ClientCertFile {
  /** Absolute path (PEM). */
  path: string;
  /** A hash of its content, rendered beside it so a change reloads the balancer. */
  version: string;
}

/** Mutual TLS for a host: the CA its clients' certificates must chain to, and the CRL. */
export interface ClientVerification extends ClientCertFile {
  /** nginx's `ssl_verify_client`: `on` (400 without a good one) or `optional` (`lbsync.sslverifyclient`). */
  verify: "on" | "optional";
  /** The revocation list, when there is one. */
  crl?: ClientCertFile;
}

/** A certificate and its key in the certificate directory. */
export interface CertificateFiles {
  /** Its name: the file names without `.crt` and `.key` (`example.com`, `default`). */
  name: string;
  /** Absolute path of the certificate (PEM, with its chain). */
  certificate: string;
  /** Absolute path of the private key (PEM). */
  key: string;
  /**
   * A hash of the certificate file's content (`""` when not read): rendered beside the
   * path, so a renewed certificate changes the config and the balancer reloads it.
   */
  version: string;
  /** `NAME.dhparam.pem` beside it: the Diffie-Hellman parameters of its hosts (nginx). */
  dhparam?: OperatorFile;
}

/** One route inside a virtual host: a path prefix and the service behind it. */
export interface Route {
  /** Path prefix, or `~REGEX` for a path regex. */
  path: string;
  /**
   * The regex of a `~REGEX` path (nginx `location ~`, HAProxy `-m reg`), `""` for a prefix. A
   * host's regex routes are tried first, in order, the first match wins, as nginx tries its
   * regex locations; then the longest prefix.
   */
  pathRegex: string;
  /** The service's {@link Service.dest}: what replaces `path` upstream, `""` for nothing. */
  dest: string;
  /** nginx's regex of `path`, for the rewrite of a route found by DNS; `""` without `dest`. */
  destPattern: string;
  /** Service name. */
  service: string;
  /** The service's nginx upstream / HAProxy backend name ({@link Service.backend}). */
  backend: string;
  /**
   * For a proxied prefix with a trailing slash (`/api/`): the path without it (`/api`), which
   * answers 301 to the prefix (nginx does this itself; the HAProxy template follows), unless
   * a route of that exact path exists; `""` otherwise.
   */
  redirectFrom: string;
  /** True when the service has servers; otherwise the route answers 503. */
  hasServers: boolean;
  /** The service's health path, `""` when none. */
  health: string;
  /** The service's {@link Service.dnsName}. */
  dnsName: string;
  /** The service's {@link Service.dnsPort}: when set, nginx finds the servers by DNS. */
  dnsPort: number;
  /** The service's {@link Service.scheme}: `http` or `https`. */
  scheme: "http" | "https";
  /**
   * The service's {@link Service.keepalive}; 0: its servers get `Connection: close`, as
   * nginx-proxy's `keepalive=disabled` sends them.
   */
  keepalive: number;
  /**
   * The service's {@link Service.internalOnly}: the route answers only internal clients
   * (nginx in its location, HAProxy in its backend), whatever its host's owner says, as
   * nginx-proxy's `NETWORK_ACCESS` guards one path.
   */
  internalOnly: boolean;
  /** Basic authentication from the operator's htpasswd directory (`--htpasswd-dir`). */
  auth?: BasicAuth;
  /** The operator's `HOST_location` (or `default_location`) include (`--vhost-dir`). */
  locationInclude?: OperatorFile;
  /**
   * The operator's `HOST_SHA1(PATH)_location_override` (for `/` also `HOST_location_override`,
   * `--vhost-dir`): included in place of the route's whole `location` block, as nginx-proxy does.
   */
  locationOverride?: OperatorFile;
}

/** A file of the operator's that the balancer reads, with a version of its content. */
export interface OperatorFile {
  /** Path as the balancer's config names it (a `*` of a wildcard host escaped for `include`). */
  path: string;
  /** The first 16 hex digits of the SHA-1 of its content: the config changes when it does. */
  version: string;
}

/** Basic authentication of a route: nginx-proxy's htpasswd convention. */
export interface BasicAuth extends OperatorFile {
  /** The realm shown to the client, `Restricted HOST` or `Restricted HOSTPATH`. */
  realm: string;
}

/**
 * The operator's files lbsync found, by file name with their content versions: nginx-proxy's
 * `htpasswd/` and `vhost.d/` conventions and its `proxy.conf`. The I/O shell reads them.
 */
export interface OperatorFiles {
  /** The htpasswd directory (`--htpasswd-dir`): `HOST` and `HOST_SHA1(PATH)` files. */
  htpasswdDir?: string;
  /** Its files, by name. */
  htpasswd?: ReadonlyMap<string, string>;
  /**
   * The vhost directory (`--vhost-dir`): `HOST` and `default` server includes, `HOST_location`,
   * `HOST_SHA1(PATH)_location` and `default_location` location includes,
   * `HOST_SHA1(PATH)_location_override` and `HOST_location_override` location overrides.
   */
  vhostDir?: string;
  /** Its files, by name. */
  vhost?: ReadonlyMap<string, string>;
  /** `--proxy-conf`: included in place of lbsync's proxy headers, when it exists. */
  proxyConf?: OperatorFile;
  /** `--dhparam`: the Diffie-Hellman parameters of DHE ciphers, when it exists. */
  dhparam?: OperatorFile;
  /** `--error-page`: the page of 50x answers to hosts no service names, when it exists. */
  errorPage?: ErrorPage;
  /**
   * `--network-internal-conf` (nginx-proxy's `/etc/nginx/network_internal.conf`): included in
   * the locations of `lbsync.access=internal` hosts in place of lbsync's allow list, when it exists.
   */
  networkInternalConf?: OperatorFile;
}

/** The operator's error page (nginx-proxy's `/usr/share/nginx/html/errors/50x.html`). */
export interface ErrorPage extends OperatorFile {
  /** Its size in bytes: HAProxy serves a page only as large as its buffer allows. */
  bytes: number;
}

/** A host name served on a listener, with its routes, longest path first. */
export interface VirtualHost {
  /** Host name as written (`example.com`, `*.example.com`, `~^re[0-9]+\.example\.com$`). */
  host: string;
  /** A name that stands for it in HAProxy's variables: the host, `lbsync_regex_N` for a regex. */
  key: string;
  /** True for `*.example.com`. */
  wildcard: boolean;
  /** True for `www.example.*` (nginx's wildcard at the end: any name that starts so). */
  suffixWildcard: boolean;
  /** True for a regular expression, `~REGEX` (matched against the lowercased host). */
  regex: boolean;
  /** How to match the Host header: `str` (exact), `end` (`*.`), `beg` (`.*`) or `reg`. */
  matchKind: "str" | "end" | "beg" | "reg";
  /**
   * Value matched: the host, `.example.com` for `*.example.com`, `www.example.` for
   * `www.example.*`, the regex for `~REGEX`.
   */
  matchValue: string;
  /** Routes, longest path first. */
  routes: Route[];
  /** True when a route has path `/`; otherwise other paths answer 404. */
  hasRootRoute: boolean;
  /** Its certificate, when HTTPS is on (`--cert-dir`) and one is found for it. */
  tls?: CertificateFiles;
  /** Client certificates asked over HTTPS (`HOST.ca.crt`, else `ca.crt`, in `--cert-dir`). */
  clientCa?: ClientVerification;
  /** How it is served: its service's `lbsync.https`, `nohttps` without a certificate. */
  httpsMode: HttpsMode;
  /** Served over HTTP (not `nohttp`). */
  httpOn: boolean;
  /** Served over HTTPS (a certificate, and not `nohttps`). */
  httpsOn: boolean;
  /**
   * The HTTPS port it is served (or refused) on, when the listener has HTTPS: `--https-listen`,
   * else its service's `lbsync.httpslisten` (nginx-proxy's `EXTERNAL_HTTPS_PORT`).
   */
  httpsBind?: HttpsBind;
  /** HTTP answers 301 to HTTPS (`redirect` with a certificate), except ACME challenges. */
  redirectToHttps: boolean;
  /**
   * No certificate to use, and not `nohttps`: nginx listens for it on the HTTPS port and
   * refuses the handshake (`ssl_reject_handshake`), as nginx-proxy; not served over HTTPS.
   */
  refusedHttps: boolean;
  /**
   * The directory HTTP requests for `/.well-known/acme-challenge/` are answered from
   * (`--acme-webroot`, for a host served over HTTP and HTTPS), `""` for none.
   */
  acmeWebroot: string;
  /**
   * The status of its HTTPS redirect for OPTIONS, POST, PUT, PATCH and DELETE requests when it
   * is not 301 (`lbsync.nongetredirect`, `--non-get-redirect`), else 0.
   */
  nonGetRedirect: RedirectCode | 0;
  /** nginx's `server_tokens` for it (`lbsync.servertokens`), `""` for nginx's default. */
  serverTokens: "" | "on" | "off";
  /** Strict-Transport-Security value sent over HTTPS, `""` for none. */
  hsts: string;
  /** `--default-host`: HTTP requests for hosts no service names come here. */
  isDefault: boolean;
  /** `lbsync.access=internal`: clients outside `internalNetworks` get 403. */
  internalOnly: boolean;
  /** The operator's `HOST` (or `default`) server include (`--vhost-dir`). */
  serverInclude?: OperatorFile;
}

/** The HTTPS side of the default HTTP listener (`--cert-dir`, `--https-listen`). */
export interface HttpsListener {
  /** Port number, default 443. */
  port: number;
  /** nginx `listen` argument: `443` or `127.0.0.1:443`. */
  nginxListen: string;
  /** nginx's second `listen`, for IPv6 (`[::]:PORT`, `--enable-ipv6`); `\"\"` when none. */
  nginxListen6: string;
  /** HAProxy `bind` argument: `:443` or `127.0.0.1:443`. */
  haproxyBind: string;
  /** `:PORT` for redirects to a port other than 443, else `""`. */
  redirectPort: string;
  /**
   * Every HTTPS port of the listener's hosts, `port` first, then the hosts' own
   * (`lbsync.httpslisten`) ascending: nginx's fallback server and HAProxy's binds.
   */
  binds: HttpsBind[];
  /** True when some host has an HTTPS port of its own (HAProxy then matches hosts by port). */
  hasOwnPorts: boolean;
  /** HAProxy keys of the hosts served over HTTPS on each port, in groups of at most 50. */
  portGroups: { name: string; keys: string }[];
  /** The certificates in use, each once (HAProxy `crt` arguments; the default one first). */
  certificates: CertificateFiles[];
  /** {@link certificates} is not empty: HAProxy binds the port only then (a bind needs one). */
  hasCertificates: boolean;
  /** `default.crt`/`default.key`, for hosts without one of their own, if present. */
  defaultCertificate?: CertificateFiles;
  /** HAProxy keys of hosts that redirect HTTP to HTTPS, in groups of at most 50, by port. */
  redirectGroups: { keys: string; redirectPort: string }[];
  /**
   * True when a host asks client certificates (`clientCa`): HAProxy's binds then take a
   * crt-list (each such host's CA on its own line, by SNI) and let a failed verification
   * through to the HTTP rules, which answer 400 as nginx does.
   */
  hasClientCa: boolean;
  /** HAProxy keys of the hosts that ask client certificates, in groups of at most 50. */
  clientCaGroups: string[];
  /** Those of them that answer 400 without one (`ssl_verify_client on`), in groups of 50. */
  requiredClientCaGroups: string[];
  /** HAProxy keys of hosts served over HTTPS only, in groups of at most 50. */
  httpsOnlyGroups: string[];
  /** HAProxy keys of hosts not served over HTTPS, in groups of at most 50. */
  httpOnlyGroups: string[];
  /** Hosts with a Strict-Transport-Security value. */
  hstsHosts: { key: string; hsts: string }[];
  /** Hosts that redirect non-GET requests with another status than 301. */
  nonGetRedirects: { key: string; code: RedirectCode; redirectPort: string }[];
}

/** One HTTPS port: its `listen` and `bind` arguments, and what a redirect to it appends. */
export interface HttpsBind {
  /** Port number. */
  port: number;
  /** nginx `listen` argument: `443` or `127.0.0.1:443`. */
  nginxListen: string;
  /** nginx's second `listen`, for IPv6; `""` when none. */
  nginxListen6: string;
  /** HAProxy `bind` argument. */
  haproxyBind: string;
  /** `:PORT` for a port other than 443, else `""`. */
  redirectPort: string;
  /** The HAProxy name of the bind (`lbsync-https-PORT`), which host rules match on. */
  name: string;
}

/** An HTTP listening port with its virtual hosts and default routes. */
export interface HttpListener {
  /** Port number. */
  port: number;
  /** nginx `listen` argument: `8080` or `127.0.0.1:8080`. */
  nginxListen: string;
  /** nginx's second `listen`, for IPv6 (`[::]:PORT`, `--enable-ipv6`); `\"\"` when none. */
  nginxListen6: string;
  /** HAProxy `bind` argument: `:8080` or `127.0.0.1:8080`. */
  haproxyBind: string;
  /** Virtual hosts: exact names sorted, then wildcards, longest suffix first. */
  virtualHosts: VirtualHost[];
  /** True when `virtualHosts` is not empty. */
  hasVirtualHosts: boolean;
  /**
   * The exact (not wildcard) host names, in groups of at most 50 joined by spaces: one
   * HAProxy pattern list each (a config line holds at most 64 words; one lookup per group
   * instead of one rule per host).
   */
  exactHostGroups: string[];
  /**
   * The redirects of `redirectFrom` as `HOST|PATH` (`|PATH` for the default host), in groups
   * of at most 50 joined by spaces: HAProxy matches them with one lookup per group.
   */
  redirectGroups: string[];
  /** True when `redirectGroups` is not empty. */
  hasRedirects: boolean;
  /** Routes of services without a host, longest path first. */
  defaultRoutes: Route[];
  /** True when a default route has path `/`. */
  hasDefaultRootRoute: boolean;
  /** Its HTTPS side, when HTTPS is on and some host of it has a certificate. */
  httpsListener?: HttpsListener;
  /** The ports of {@link HttpsListener.binds}, when HTTPS is on. */
  httpsPorts?: number[];
  /** True when a virtual host takes the HTTP requests for unknown hosts (`--default-host`). */
  hasDefaultHost: boolean;
  /** That virtual host's key, `""` when none. */
  defaultHostKey: string;
  /** Keys of the virtual hosts served to internal clients only, in groups of at most 50. */
  internalGroups: string[];
}

/** A TCP service with its listening address. */
export interface TcpListener {
  /** Port number. */
  port: number;
  /** nginx `listen` argument. */
  nginxListen: string;
  /** nginx's second `listen`, for IPv6 (`[::]:PORT`, `--enable-ipv6`); `\"\"` when none. */
  nginxListen6: string;
  /** HAProxy `bind` argument. */
  haproxyBind: string;
  /** The service behind it. */
  service: Service;
}

/** Everything a template sees. Deterministic: the same containers give the same model. */
export interface Model {
  /** All services, sorted by name. */
  services: Service[];
  /** The http services. */
  httpServices: Service[];
  /** The tcp services. */
  tcpServices: Service[];
  /** HTTP listeners, sorted by port. */
  httpListeners: HttpListener[];
  /** TCP listeners, sorted by port. */
  tcpListeners: TcpListener[];
  /** True when there is at least one http listener. */
  hasHttp: boolean;
  /** True when there is at least one tcp listener. */
  hasTcp: boolean;
  /** True when an http listener has an HTTPS side. */
  hasHttps: boolean;
  /** True when HTTPS is on (`--cert-dir`), whether or not a host has a certificate. */
  tlsOn: boolean;
  /**
   * `HOST:PORT` of lbsync's ACME challenge server: the templates send
   * `/.well-known/acme-challenge/` there on every HTTP host; `""` without ACME.
   */
  acmeChallenge: string;
  /**
   * `--acme-webroot` with `--acme-webroot-unknown-hosts`: the directory the default server
   * answers `/.well-known/acme-challenge/` from for hosts no service names; `""` for none.
   */
  acmeWebrootUnknownHosts: string;
  /**
   * The HTTPS redirect leaves `/.well-known/acme-challenge/` over HTTP to lbsync's ACME or the
   * backend; false under `--compat nginx-proxy` without lbsync's ACME, where, as nginx-proxy's,
   * only a host answering from `--acme-webroot` spares them.
   */
  redirectSparesAcme: boolean;
  /** nginx's `server_tokens` in the default server: `off` under `--compat nginx-proxy`, else `""`. */
  defaultServerTokens: string;
  /**
   * nginx's servers for unknown hosts say no `default_server` (`--compat nginx-proxy`): they
   * come first for their port, so nginx takes them as its default, and an operator's own
   * `listen 80 default_server` file (nginx-proxy's conf.d convention) takes their place.
   */
  implicitDefaultServer: boolean;
  /** The networks `lbsync.access=internal` hosts answer (`--internal-networks`). */
  internalNetworks: string[];
  /**
   * Under `--compat nginx-proxy`: the containers refused for a `VIRTUAL_HOST_MULTIPORTS` that does
   * not parse, with the reason, written as comments where nginx-proxy's users look for them;
   * printable ASCII only.
   */
  refusedNotes: { name: string; reason: string }[];
  /** `--proxy-conf`: the operator's proxy settings, included instead of lbsync's headers. */
  proxyConf?: OperatorFile;
  /** `--dhparam`: the Diffie-Hellman parameters of every HTTPS listener (when it exists). */
  dhparam?: OperatorFile;
  /**
   * `--error-page`: the body nginx answers hosts no service names with, when
   * {@link unknownHostStatus} is a 50x (nginx-proxy's `errors/50x.html`); absent otherwise.
   */
  unknownHostPage?: OperatorFile;
  /** {@link unknownHostPage} for HAProxy: absent too when the page is over 12 KiB (its buffer). */
  haproxyUnknownHostPage?: OperatorFile;
  /**
   * `--network-internal-conf`: the operator's `network_internal.conf`, included in each route
   * location of an `lbsync.access=internal` host (its allow and deny take over there).
   */
  networkInternalConf?: OperatorFile;
  /** nginx `server_names_hash_bucket_size` that fits the longest host name. */
  serverNamesHashBucketSize: number;
  /** nginx `server_names_hash_max_size` that fits every host name. */
  serverNamesHashMaxSize: number;
  /** HAProxy runtime API socket (`--haproxy-socket`), `""` when none. */
  haproxySocket: string;
  /**
   * The status of a request for a host no service names, when no default route takes it:
   * 404, or 503 with `--compat nginx-proxy` (what nginx-proxy's default server answers).
   */
  unknownHostStatus: number;
  /**
   * What a known host answers for a path no route of it serves (`--default-root`): the status,
   * 404 by default; 0 for `none` (no `location /`: the operator's own, nginx only).
   */
  unknownPathStatus: number;
  /** For a redirect there, its location as nginx writes it (`$host`, `$request_uri`); else `""`. */
  unknownPathLocation: string;
  /** nginx's `return` for it: `404`, `301 https://$host$request_uri`. */
  unknownPathReturn: string;
  /** The location as HAProxy's log format writes it. */
  unknownPathHaproxyLocation: string;
  /** True unless `--default-root none`. */
  hasUnknownPathAnswer: boolean;
  /** The DNS server nginx resolves services with (`--nginx-dns`), `""` when none. */
  nginxResolver: string;
  /**
   * `--resolvers` (nginx-proxy's `RESOLVERS`): nginx's `resolver` for the whole http context,
   * as nginx writes it (`8.8.8.8 [2001:db8::53] valid=30s`), `""` when none.
   */
  resolvers: string;
  /**
   * The hash of the rendered text (16 hex digits), for a template to serve to lbsync so it can
   * confirm that a reload took. Rendered as a token that `render` replaces.
   */
  generation: string;
  /**
   * How long the balancer waits to connect to a server before it tries another (nginx
   * `proxy_connect_timeout`, HAProxy `timeout connect`), e.g. `2000ms`: a vanished container
   * sends no reset.
   */
  connectTimeout: string;
  /**
   * Pass on the `X-Forwarded-For`, `-Proto`, `-Host` and `-Port` a client sends (a balancer
   * behind another proxy, nginx-proxy's `TRUST_DOWNSTREAM_PROXY`); false: replace them.
   */
  trustDownstreamProxy: boolean;
  /**
   * `--proxy-protocol` (nginx-proxy's `ENABLE_PROXY_PROTOCOL`): every connection to the http
   * listeners starts with a PROXY header, whose client address and port the balancer takes
   * (nginx `proxy_protocol` and `real_ip_header`, HAProxy `accept-proxy`).
   */
  proxyProtocol: boolean;
  /** The reserved host name the generation is served under (`lbsync-generation.invalid`). */
  generationHost: string;
  /** Besides loopback, the address allowed to read the generation (`--listen-address`), or `""`. */
  generationAllow: string;
}

/** A candidate container left out of the model, and why. */
export interface SkippedContainer {
  /** Full container id. */
  id: string;
  /** Container name. */
  name: string;
  /** Engine it was listed from. */
  engine: string;
  /** Service it would have joined, when known. */
  service: string;
  /** Why it is out, as a code (`conflict`, `not-running`, `bad-label`, ...). */
  code: SkipCode;
  /** One line: why it is out. */
  reason: string;
  /** A setting that would let it in; {@link describeHint} words it. */
  hint?: SettingHint;
}

/** One listening port -> container port mapping of `--ports` (`80`, `443=3000`, `tcp:5432`). */
export interface PortMapping {
  /** `http`, or `tcp` for `tcp:LISTEN`. */
  mode: ServiceMode;
  /** Port the balancer listens on. */
  listen: number;
  /** Container port it sends to. */
  port: number;
}

/** Options of {@link buildModel}; every field has a default. */
export interface ModelOptions {
  /** Label prefix, default `lbsync`. */
  labelPrefix?: string;
  /** Name regex that makes a container a candidate; group `service` names the service. */
  match?: RegExp;
  /** Image reference regex that makes a container a candidate (`--match-image`). */
  matchImage?: RegExp;
  /**
   * The one service that `match` / `matchImage` without a named group `service` put every
   * container they select into (default `match` / `image`); a label still names its own.
   */
  service?: string;
  /** `network` (default) or `published`. */
  address?: AddressMode;
  /** Network whose address to use when a container has several. */
  network?: string;
  /** Host IP for published ports and host-network containers. */
  hostIp?: string;
  /** Default listening port of http services, default 80. */
  listen?: number;
  /** Address the balancer binds its listeners to, default every address. */
  listenAddress?: string;
  /** Keep containers whose Docker health is `starting` or `unhealthy`. */
  includeUnhealthy?: boolean;
  /**
   * Containers that did not pass their readiness probe, by full id, with the reason: they
   * are left out (the I/O shell probes; see `ReadinessGate`).
   */
  notReady?: ReadonlyMap<string, string>;
  /** Rollover for every service: only the newest ready container of a service serves. */
  rollover?: boolean;
  /**
   * Prefix of every upstream and backend name lbsync generates, default `lbsync_`: letters,
   * digits and `_`, starting with a letter.
   */
  namePrefix?: string;
  /**
   * Ports other processes on this host hold, with who holds them (the I/O shell probes the
   * ports labels ask for): a service asking for one is left out with the reason.
   */
  busyPorts?: ReadonlyMap<number, string>;
  /** `connectTimeout` of the model in milliseconds, default 2000 (`--connect-timeout`). */
  connectTimeoutMs?: number;
  /** The model's `trustDownstreamProxy` (`--trust-downstream-proxy`), default false. */
  trustDownstreamProxy?: boolean;
  /** The model's `proxyProtocol` (`--proxy-protocol`), default false. */
  proxyProtocol?: boolean;
  /**
   * Under `--compat nginx-proxy`, name each upstream by the SHA-1 of its host (and `-` and the
   * SHA-1 of its path), as nginx-proxy's `SHA1_UPSTREAM_NAME=true` (`--sha1-upstream-names`).
   */
  sha1UpstreamNames?: boolean;
  /**
   * What a known host answers for a path no route serves (`--default-root`, nginx-proxy's
   * `DEFAULT_ROOT`): `404` (the default), another status, `301 URL` (with `$host`,
   * `$request_uri`), or `none`.
   */
  defaultRoot?: string;
  /**
   * Listen on IPv6 too (`--enable-ipv6`, nginx-proxy's `ENABLE_IPV6`): nginx adds `[::]:PORT`,
   * HAProxy binds `:::PORT v4v6`; without `listenAddress` only.
   */
  enableIpv6?: boolean;
  /**
   * Reach a container on a network that gives it both by its IPv6 address (`--prefer-ipv6`,
   * nginx-proxy's `PREFER_IPV6_NETWORK`); default its IPv4 one.
   */
  preferIpv6?: boolean;
  /**
   * `--balancer-container ID|NAME`: the container the balancer runs in (nginx-proxy's image
   * finds its own). A container on several networks is reached on one the balancer is on too,
   * and one that shares none with it is left out with the reason, as nginx-proxy does; a
   * balancer on the host's network reaches them all.
   */
  balancerContainer?: string;
  /**
   * `--ports`: containers a rule selected that have no labels of their own serve each
   * mapping as a service of its own (`NAME-LISTEN` when there are several).
   */
  ports?: PortMapping[];
  /** Services with fixed servers; one with a discovered service's name adds to it. */
  staticServices?: StaticService[];
  /** HAProxy runtime API socket the `haproxy` template declares (`stats socket`). */
  haproxySocket?: string;
  /** `nginx-proxy`: containers' `VIRTUAL_*` variables stand for lbsync labels. */
  compat?: "nginx-proxy";
  /**
   * `HOST:PORT` of lbsync's DNS server (`--nginx-dns`): services whose servers share a port
   * are found by nginx through it, so their membership changes need no reload.
   */
  nginxDns?: string;
  /**
   * HTTPS (`--cert-dir`): the certificates found, by name (`example.com` for
   * `example.com.crt` and `.key`; `default` for the default one). Hosts of the default
   * listener with a certificate are served over HTTPS too.
   */
  certificates?: ReadonlyMap<string, CertificateFiles>;
  /**
   * The client CAs and revocation lists of the certificate directory, by file name
   * (`HOST.ca.crt`, `HOST.crl.pem`, `ca.crt`, `ca.crl.pem`; a regex host's by its SHA-1), each
   * with its path and version: nginx-proxy's mutual TLS.
   */
  clientCertFiles?: ReadonlyMap<string, ClientCertFile>;
  /** The HTTPS port, default 443 (`--https-listen`). */
  httpsListen?: number;
  /** `HOST:PORT` of lbsync's ACME challenge server (watch mode with ACME). */
  acmeChallenge?: string;
  /**
   * A directory (nginx-proxy's `/usr/share/nginx/html`, filled by acme-companion) whose files
   * answer HTTP requests for `/.well-known/acme-challenge/` of the hosts served over HTTPS
   * too, instead of their backends (nginx templates; `--acme-webroot`).
   */
  acmeWebroot?: string;
  /** Only services labelled `lbsync.acmewebroot=true` use {@link acmeWebroot}. */
  acmeWebrootOptIn?: boolean;
  /** The default server answers from {@link acmeWebroot} for hosts no service names too. */
  acmeWebrootUnknownHosts?: boolean;
  /** The HTTPS redirect's status for non-GET requests, default 301 (`--non-get-redirect`). */
  nonGetRedirect?: RedirectCode;
  /** How hosts with a certificate are served when their service does not say (`--https-method`). */
  httpsMethod?: HttpsMode;
  /**
   * Hosts without a certificate of their own are served over HTTPS with `default.crt` when
   * their service does not say (`--trust-default-cert`; default: with `--compat nginx-proxy`).
   */
  trustDefaultCert?: boolean;
  /**
   * A host with no certificate to use stays on HTTP when its service says `redirect` or
   * `nohttp` (`--http-on-missing-cert`, default true, nginx-proxy's ENABLE_HTTP_ON_MISSING_CERT).
   */
  httpOnMissingCert?: boolean;
  /**
   * A host of the `--listen` port that takes the HTTP requests for hosts no service names
   * (nginx-proxy's `DEFAULT_HOST`), instead of the unknown-host answer.
   */
  defaultHost?: string;
  /** The clients `lbsync.access=internal` hosts answer, in CIDR form (default: private ranges). */
  internalNetworks?: readonly string[];
  /** The operator's htpasswd and vhost files and proxy.conf (nginx-proxy's conventions). */
  operatorFiles?: OperatorFiles;
  /**
   * nginx's DNS servers and `resolver` parameters (nginx-proxy's `RESOLVERS`), each as
   * `parseResolvers` gives it: `["8.8.8.8", "[2001:db8::53]:5353", "valid=30s"]`.
   */
  resolvers?: readonly string[];
}

/** What {@link buildModel} returns. */
export interface ModelResult {
  /** The model for templates. */
  model: Model;
  /** Candidate containers left out, with reasons, sorted by name. */
  skipped: SkippedContainer[];
  /** Conflicts resolved along the way (service-level labels, routes, listeners). */
  warnings: string[];
}

/**
 * The part of a {@link Model} that the reports read (`explain`, `lbsync route`,
 * `routeRequest`): a whole model is one, and so is the model a running watch serves on its
 * status listener (`GET /model`), which carries only these fields.
 */
export interface ModelView<S extends ServiceView = ServiceView> {
  /** All services, sorted by name. */
  services: S[];
  /** HTTP listeners, sorted by port. */
  httpListeners: HttpListenerView[];
  /** TCP listeners, sorted by port. */
  tcpListeners: { port: number; service: S }[];
  /** See {@link Model.tlsOn}. */
  tlsOn: boolean;
  /** See {@link Model.unknownHostStatus}. */
  unknownHostStatus: number;
  /** See {@link Model.unknownPathStatus}. */
  unknownPathStatus: number;
  /** See {@link Model.unknownPathLocation}. */
  unknownPathLocation: string;
}

/** What the reports read of a {@link Service}. */
export interface ServiceView
  extends Pick<Service, "name" | "backend" | "mode" | "listen" | "routes"> {
  /** Its servers. */
  servers: ServerView[];
}

/** What the reports read of a {@link Server}. */
export type ServerView = Pick<Server, "name" | "id" | "engine" | "endpoint" | "backup">;

/** What the reports read of an {@link HttpListener}. */
export interface HttpListenerView {
  /** Port number. */
  port: number;
  /** Its virtual hosts, in the order of {@link HttpListener.virtualHosts}. */
  virtualHosts: VirtualHostView[];
  /** Routes of services without a host, longest path first. */
  defaultRoutes: RouteView[];
  /** The HTTPS ports of its hosts (see {@link HttpsListener.binds}), when HTTPS is on. */
  httpsPorts?: number[];
}

/** What the reports read of a {@link VirtualHost}. */
export interface VirtualHostView extends
  Pick<
    VirtualHost,
    | "host"
    | "wildcard"
    | "suffixWildcard"
    | "regex"
    | "matchValue"
    | "isDefault"
    | "httpOn"
    | "httpsOn"
    | "redirectToHttps"
  > {
  /** Routes, longest path first. */
  routes: RouteView[];
  /** Its certificate's name, when it has one. */
  tls?: Pick<CertificateFiles, "name">;
  /** The client CA it asks certificates of (nginx), when it has one. */
  clientCa?: Pick<ClientVerification, "path" | "verify">;
  /** nginx refuses its HTTPS handshake (no certificate to use). */
  refusedHttps?: boolean;
  /** The HTTPS port it is served on, when HTTPS is on. */
  httpsBind?: Pick<HttpsBind, "port">;
}

/** What the reports read of a {@link Route}. */
export type RouteView = Pick<
  Route,
  "path" | "dest" | "service" | "redirectFrom" | "auth" | "locationOverride"
>;

/** A {@link ModelResult} with the model as the reports read it. */
export interface ModelViewResult {
  /** The model. */
  model: ModelView;
  /** Candidate containers left out, with reasons, sorted by name. */
  skipped: SkippedContainer[];
  /** Conflicts resolved along the way. */
  warnings: string[];
}

/** A fixed server of a static service. */
export interface StaticServer {
  /** IP address or host name (resolved by the balancer). */
  host: string;
  /** Port. */
  port: number;
  /** 1..256, default 1. */
  weight?: number;
  /** Serves only when no primary server is up. */
  backup?: boolean;
}

/** A service with fixed servers, validated like labels (see `parseStaticServices`). */
export interface StaticService {
  /** Service name; the same as a discovered service's adds to it. */
  name: string;
  /** `http` (default) or `tcp`. */
  mode?: ServiceMode;
  /** Host names, as `lbsync.host`. */
  hosts?: string[];
  /** Path prefix, as `lbsync.path`. */
  path?: string;
  /** Listening port, as `lbsync.listen`. */
  listen?: number;
  /** Health path, as `lbsync.health`. */
  health?: string;
  /** How its hosts are served with a certificate, as `lbsync.https` (from `schemes`). */
  https?: HttpsMode;
  /** The fixed servers. */
  servers: StaticServer[];
}
