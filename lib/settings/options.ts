/**
 * Every option of `lbsync`, declared once: the command-line parser, the `--config` file
 * reader and the help text are all made from this table, so they cannot disagree. Pure.
 *
 * @module
 */

import { DEFAULTS } from "../core/defaults.ts";
import type { SettingName } from "../core/errors.ts";
import { formatDuration as d } from "../core/util/duration.ts";

/** The commands of `lbsync`. */
export const COMMANDS = ["render", "watch", "explain", "route"] as const;

/** One of {@link COMMANDS}. */
export type CommandName = (typeof COMMANDS)[number];

/** One option. */
export interface OptionSpec {
  /** Long name, without `--`. */
  name: string;
  /** One-letter form, without `-`. */
  short?: string;
  /** `string` takes a value; `boolean` is a flag. */
  type: "string" | "boolean";
  /** May be given more than once. */
  multiple?: boolean;
  /** How help names its value (`DUR`, `PATH`). */
  value?: string;
  /** Help section. */
  section: string;
  /** The commands it applies to. */
  commands: readonly CommandName[];
  /** False when a `--config` file may not hold it. */
  config?: boolean;
  /** Help text; `\n` starts a new line. */
  help: string;
}

const ALL: readonly CommandName[] = COMMANDS;
const RENDER_WATCH: readonly CommandName[] = ["render", "watch"];
const WATCH: readonly CommandName[] = ["watch"];
const REPORTS: readonly CommandName[] = ["explain", "route"];
const WATCH_REPORTS: readonly CommandName[] = ["watch", "explain", "route"];

/** Every option, in help order. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    name: "docker",
    type: "string",
    multiple: true,
    value: "URL",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help:
      "a Docker Engine: unix:///path, tcp://h:p, http://, https://;\nrepeatable (containers of every engine are merged; with --swarm,\nthe managers of one swarm, read one at a time)",
  },
  {
    name: "tls-ca",
    type: "string",
    value: "FILE",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "CA certificate (default: DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)",
  },
  {
    name: "tls-cert",
    type: "string",
    value: "FILE",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "client certificate",
  },
  {
    name: "tls-key",
    type: "string",
    value: "FILE",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "client key",
  },
  {
    name: "allow-partial",
    type: "boolean",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "render from the engines that answered when others fail (watch: once one answered)",
  },
  {
    name: "docker-timeout",
    type: "string",
    value: "DUR",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: `deadline of each Engine API request, headers and body (default ${
      d(DEFAULTS.dockerTimeoutMs)
    })`,
  },
  {
    name: "swarm",
    type: "boolean",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help:
      "the engines are Swarm managers: services' running tasks are\nthe backends (labels on the service); watch resyncs every 5s",
  },
  {
    name: "swarm-vip",
    type: "boolean",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "the same, one server per service: its virtual IP",
  },
  {
    name: "from-file",
    type: "string",
    multiple: true,
    value: "PATH",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: ALL,
    help: "Docker API JSON (docker inspect, /containers/json); - = stdin;\nrepeatable",
  },
  {
    name: "from-status",
    type: "string",
    value: "URL",
    section: "Sources (default: DOCKER_HOST, else unix:///var/run/docker.sock)",
    commands: REPORTS,
    config: false,
    help:
      "the model a running watch applied, from its --status-listen:\nhttp://HOST:PORT, HOST:PORT or PORT (127.0.0.1); the watch's\nsettings apply, so no other source or model option is taken",
  },
  {
    name: "match",
    type: "string",
    value: "REGEX",
    section: "Selection",
    commands: ALL,
    help:
      "containers whose name matches are candidates, all in one\nservice (--service); a named group (?<service>...) splits",
  },
  {
    name: "match-image",
    type: "string",
    value: "REGEX",
    section: "Selection",
    commands: ALL,
    help: "containers whose image reference matches, grouped likewise",
  },
  {
    name: "service",
    type: "string",
    value: "NAME",
    section: "Selection",
    commands: ALL,
    help:
      "the one service of a --match or --match-image without a named\ngroup (default match, image); labels still name their own",
  },
  {
    name: "ports",
    type: "string",
    value: "LIST",
    section: "Selection",
    commands: ALL,
    help:
      "for containers a rule selected and that have no labels: listen\nports and container ports, 80,443=3000,tcp:5432 (one service each,\nNAME-LISTEN when several)",
  },
  {
    name: "label-prefix",
    type: "string",
    value: "P",
    section: "Selection",
    commands: ALL,
    help: `label prefix (default ${DEFAULTS.labelPrefix})`,
  },
  {
    name: "name-prefix",
    type: "string",
    value: "P",
    section: "Selection",
    commands: ALL,
    help:
      `prefix of every upstream and backend name lbsync generates\n(default ${DEFAULTS.namePrefix}), so no label can name the operator's own;\nunder --compat nginx-proxy none for names with a dot, as nginx-proxy's`,
  },
  {
    name: "include-unhealthy",
    type: "boolean",
    section: "Selection",
    commands: ALL,
    help: "keep containers whose Docker health is starting or unhealthy",
  },
  {
    name: "compat",
    type: "string",
    value: "nginx-proxy",
    section: "Selection",
    commands: ALL,
    help:
      "VIRTUAL_HOST, VIRTUAL_PORT, VIRTUAL_PATH in a container's\nenvironment stand for labels (one inspect per new container)",
  },
  {
    name: "ready-timeout",
    type: "string",
    value: "DUR",
    section: "Readiness and rollover",
    commands: ALL,
    help:
      `a container whose service has lbsync.health enters the pool\nonce GET http://ADDRESS:PORT/PATH answers 2xx (tcp: a connect);\nrender waits up to DUR for new ones (default ${
        d(DEFAULTS.readyTimeoutMs)
      })`,
  },
  {
    name: "rollover",
    type: "boolean",
    section: "Readiness and rollover",
    commands: ALL,
    help:
      "every service rolls over: only its newest ready container serves\n(per service: lbsync.rollover=true)",
  },
  {
    name: "retire-after",
    type: "string",
    value: "DUR",
    section: "Readiness and rollover",
    commands: WATCH,
    help: "stop containers retired by a rollover after DUR",
  },
  {
    name: "address",
    type: "string",
    value: "network|published",
    section: "Addresses",
    commands: ALL,
    help: "container IP on its network (default), or host IP and\npublished port",
  },
  {
    name: "network",
    type: "string",
    value: "NAME",
    section: "Addresses",
    commands: ALL,
    help: "network whose IP to use when a container has several",
  },
  {
    name: "host-ip",
    type: "string",
    value: "IP",
    section: "Addresses",
    commands: ALL,
    help: "host IP for published ports and host-network containers",
  },
  {
    name: "listen",
    type: "string",
    value: "PORT",
    section: "Addresses",
    commands: ALL,
    help: `port http services listen on (default ${DEFAULTS.listen})`,
  },
  {
    name: "listen-address",
    type: "string",
    value: "IP",
    section: "Addresses",
    commands: ALL,
    help: "address the balancer binds (default: every address)",
  },
  {
    name: "htpasswd-dir",
    type: "string",
    value: "DIR",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "basic auth as nginx-proxy reads it: DIR/HOST guards the host,\nDIR/HOST_SHA1(PATH) one path (a regex host: SHA1(HOST))",
  },
  {
    name: "vhost-dir",
    type: "string",
    value: "DIR",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "includes as nginx-proxy reads them: DIR/HOST (else DIR/default) in\nthe host's server, DIR/HOST_SHA1(PATH)_location, DIR/HOST_location\n(else DIR/default_location) in each location, and in place of it\nDIR/HOST_SHA1(PATH)_location_override (for / also\nDIR/HOST_location_override)",
  },
  {
    name: "proxy-conf",
    type: "string",
    value: "FILE",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "included in place of lbsync's proxy headers when it exists\n(nginx-proxy's /etc/nginx/proxy.conf)",
  },
  {
    name: "dhparam",
    type: "string",
    value: "FILE",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "Diffie-Hellman parameters for DHE ciphers, when it exists (nginx\nssl_dhparam, HAProxy ssl-dh-param-file; nginx-proxy's\n/etc/nginx/dhparam/dhparam.pem); CERT.dhparam.pem in --cert-dir for\none certificate's hosts (nginx)",
  },
  {
    name: "network-internal-conf",
    type: "string",
    value: "FILE",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "included in each location of lbsync.access=internal hosts in place\nof lbsync's allow list when it exists (nginx-proxy's\n/etc/nginx/network_internal.conf: allow, deny, add_header ...)",
  },
  {
    name: "error-page",
    type: "string",
    value: "FILE",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "the HTML page of 50x answers to hosts no service names, when it\nexists (nginx-proxy's /usr/share/nginx/html/errors/50x.html);\nHAProxy too, a page of up to 12 KiB",
  },
  {
    name: "acme-webroot",
    type: "string",
    value: "DIR",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "HTTP requests for /.well-known/acme-challenge/ of hosts served\nover HTTPS too are answered from DIR's files (an ACME client's\nwebroot: nginx-proxy's /usr/share/nginx/html), not the backend",
  },
  {
    name: "acme-webroot-opt-in",
    type: "boolean",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "only services labelled lbsync.acmewebroot=true use --acme-webroot\n(nginx-proxy's ACME_HTTP_CHALLENGE_LOCATION=false)",
  },
  {
    name: "acme-webroot-unknown-hosts",
    type: "boolean",
    section: "nginx-proxy's operator files (nginx targets)",
    commands: ALL,
    help:
      "hosts no service names are answered from --acme-webroot too\n(nginx-proxy's ACME_HTTP_CHALLENGE_ACCEPT_UNKNOWN_HOST)",
  },
  {
    name: "cert-dir",
    type: "string",
    value: "DIR",
    section: "HTTPS",
    commands: ALL,
    help:
      "certificates as nginx-proxy keeps them: HOST.crt with HOST.key\n(a parent domain's for a wildcard certificate, default.crt for\nother hosts); hosts with one are served over HTTPS too",
  },
  {
    name: "https-listen",
    type: "string",
    value: "PORT",
    section: "HTTPS",
    commands: ALL,
    help: `HTTPS port of hosts with a certificate (default ${DEFAULTS.httpsListen})`,
  },
  {
    name: "non-get-redirect",
    type: "string",
    value: "CODE",
    section: "HTTPS",
    commands: ALL,
    help:
      "the HTTPS redirect's status for OPTIONS, POST, PUT, PATCH and\nDELETE requests: 301 (default), 302, 303, 307 or 308 (per service:\nlbsync.nongetredirect; nginx-proxy's NON_GET_REDIRECT)",
  },
  {
    name: "https-method",
    type: "string",
    value: "MODE",
    section: "HTTPS",
    commands: ALL,
    help:
      "how hosts are served when their service does not say (lbsync.https):\nredirect (default), noredirect, nohttp or nohttps (nginx-proxy's\nHTTPS_METHOD)",
  },
  {
    name: "trust-default-cert",
    type: "string",
    value: "BOOL",
    section: "HTTPS",
    commands: ALL,
    help:
      "true: hosts without a certificate of their own are served over HTTPS\nwith default.crt (per service: lbsync.trustdefaultcert; default true\nwith --compat nginx-proxy, else false; nginx-proxy's TRUST_DEFAULT_CERT)",
  },
  {
    name: "http-on-missing-cert",
    type: "string",
    value: "BOOL",
    section: "HTTPS",
    commands: ALL,
    help:
      "true (default): a host with no certificate to use stays on HTTP\nwhatever lbsync.https says (per service: lbsync.httponmissingcert;\nnginx-proxy's ENABLE_HTTP_ON_MISSING_CERT)",
  },
  {
    name: "acme-directory",
    type: "string",
    value: "URL",
    section: "HTTPS",
    commands: WATCH,
    help:
      "hosts of services labelled lbsync.acme=true get certificates from\nthis ACME server (HTTP-01) into --cert-dir, renewed at 2/3 of\ntheir lifetime",
  },
  {
    name: "acme-email",
    type: "string",
    value: "EMAIL",
    section: "HTTPS",
    commands: WATCH,
    help: "the ACME account's contact address",
  },
  {
    name: "acme-ca-file",
    type: "string",
    value: "FILE",
    section: "HTTPS",
    commands: WATCH,
    help: "PEM certificates to trust for a private ACME server's TLS",
  },
  {
    name: "acme-listen",
    type: "string",
    value: "ADDR",
    section: "HTTPS",
    commands: WATCH,
    help:
      "where lbsync answers the challenges the balancer forwards\n(default 127.0.0.1 on a free port); the balancer must reach it",
  },
  {
    name: "default-host",
    type: "string",
    value: "HOST",
    section: "Routing",
    commands: ALL,
    help:
      "HTTP requests for hosts no service names go to this host's\nservices (nginx-proxy's DEFAULT_HOST)",
  },
  {
    name: "internal-networks",
    type: "string",
    value: "CIDR,...",
    section: "Routing",
    commands: ALL,
    help:
      "the clients hosts of lbsync.access=internal services answer\n(by default the loopback and private ranges, as nginx-proxy's)",
  },
  {
    name: "resolvers",
    type: "string",
    value: "ADDR ...",
    section: "Routing",
    commands: ALL,
    help:
      "nginx's resolver for the http context (nginx-proxy's RESOLVERS):\nIPv4 or IPv6 addresses, with :PORT; valid=TIME, ipv4=on|off,\nipv6=on|off (e.g. \"8.8.8.8 [2001:db8::53]:5353 valid=30s\")",
  },
  {
    name: "connect-timeout",
    type: "string",
    value: "DUR",
    section: "Routing",
    commands: ALL,
    help: `how long the balancer tries to connect to a server before it\ntries another (default ${
      d(DEFAULTS.connectTimeoutMs)
    }): a vanished container sends no reset`,
  },
  {
    name: "default-root",
    type: "string",
    value: "ANSWER",
    section: "Routing",
    commands: ALL,
    help:
      "what a known host answers for a path it has no route for: a\nstatus (default 404), a redirect (301 https://$host/app$request_uri)\nor none (the operator's own location /, nginx only);\nnginx-proxy's DEFAULT_ROOT",
  },
  {
    name: "sha1-upstream-names",
    type: "boolean",
    section: "Routing",
    commands: ALL,
    help:
      "under --compat nginx-proxy, name each upstream by the SHA-1 of its\nhost (nginx-proxy's SHA1_UPSTREAM_NAME)",
  },
  {
    name: "enable-ipv6",
    type: "boolean",
    section: "Routing",
    commands: ALL,
    help: "listen on every IPv6 address too, without --listen-address\n(nginx-proxy's ENABLE_IPV6)",
  },
  {
    name: "prefer-ipv6",
    type: "boolean",
    section: "Routing",
    commands: ALL,
    help:
      "reach a container on a dual-stack network by its IPv6 address\n(nginx-proxy's PREFER_IPV6_NETWORK); default its IPv4 one",
  },
  {
    name: "balancer-container",
    type: "string",
    value: "ID",
    section: "Routing",
    commands: ALL,
    help:
      "the container the balancer runs in (id or name): a container on\nseveral networks is reached on one it shares with it, one that\nshares none is left out (nginx-proxy's image finds its own)",
  },
  {
    name: "trust-downstream-proxy",
    type: "boolean",
    section: "Routing",
    commands: ALL,
    help:
      "pass on the X-Forwarded-For, -Proto, -Host and -Port a client\nsends (a balancer behind another proxy; nginx-proxy's\nTRUST_DOWNSTREAM_PROXY); without it they are replaced",
  },
  {
    name: "proxy-protocol",
    type: "boolean",
    section: "Routing",
    commands: ALL,
    help:
      "every connection to the http listeners starts with a PROXY header\n(v1 or v2), whose client address and port the balancer takes\n(nginx-proxy's ENABLE_PROXY_PROTOCOL): let only proxies reach them",
  },
  {
    name: "template",
    short: "t",
    type: "string",
    multiple: true,
    value: "NAME|PATH",
    section: "Targets (pairs, repeatable)",
    commands: ALL,
    config: false,
    help: "built-in nginx, nginx-stream, haproxy, or a Mustache file",
  },
  {
    name: "output",
    short: "o",
    type: "string",
    multiple: true,
    value: "PATH|-",
    section: "Targets (pairs, repeatable)",
    commands: ALL,
    config: false,
    help: "where the output goes; - prints it (default)",
  },
  {
    name: "check-cmd",
    type: "string",
    value: "CMD",
    section: "Applying",
    commands: ALL,
    help:
      "validate: {} = the candidate file, checked before the swap;\nwithout {}, after it, and a failure restores the old files",
  },
  {
    name: "reload-cmd",
    type: "string",
    value: "CMD",
    section: "Applying",
    commands: ALL,
    help:
      "run once after a changed, checked apply (explain and route:\nthe balancer is on this host, so ports others hold are refused)",
  },
  {
    name: "signal-container",
    type: "string",
    value: "NAME[:SIGNAL]",
    section: "Applying",
    commands: RENDER_WATCH,
    help: "signal a container through the Docker API instead (SIGHUP)",
  },
  {
    name: "backup-dir",
    type: "string",
    value: "DIR",
    section: "Applying",
    commands: RENDER_WATCH,
    help: "copy replaced files here first, under their own path",
  },
  {
    name: "keep-backups",
    type: "string",
    value: "N",
    section: "Applying",
    commands: RENDER_WATCH,
    help: `newest backups kept per output (default ${DEFAULTS.keepBackups})`,
  },
  {
    name: "dry-run",
    type: "boolean",
    section: "Applying",
    commands: RENDER_WATCH,
    help: "write nothing; print a unified diff against the live files",
  },
  {
    name: "command-timeout",
    type: "string",
    value: "DUR",
    section: "Applying",
    commands: RENDER_WATCH,
    help: `bound for check and reload commands (default ${d(DEFAULTS.commandTimeoutMs)})`,
  },
  {
    name: "lock-timeout",
    type: "string",
    value: "DUR",
    section: "Applying",
    commands: RENDER_WATCH,
    help: `wait for another run's lock at most this long (default ${d(DEFAULTS.lockTimeoutMs)})`,
  },
  {
    name: "confirm-timeout",
    type: "string",
    value: "DUR",
    section: "Applying",
    commands: RENDER_WATCH,
    help:
      `after a reload, wait this long for the balancer to serve the new\nfile's generation (built-in templates); still the old one: the\napply fails (default ${
        d(DEFAULTS.confirmTimeoutMs)
      }; 0: do not wait)`,
  },
  {
    name: "config",
    type: "string",
    value: "FILE",
    section: "Applying",
    commands: ALL,
    config: false,
    help: "JSON with the same settings and several targets",
  },
  {
    name: "haproxy-socket",
    type: "string",
    value: "PATH",
    section: "Applying",
    commands: ALL,
    help:
      "haproxy targets: declare a runtime API socket and apply changes\nof servers only through it, without a reload",
  },
  {
    name: "drain-timeout",
    type: "string",
    value: "DUR",
    section: "Applying",
    commands: RENDER_WATCH,
    help:
      `a server removed through it is deleted once its connections are\ngone, or after DUR (default ${
        d(DEFAULTS.drainTimeoutMs)
      })`,
  },
  {
    name: "nginx-dns",
    type: "string",
    value: "ADDR",
    section: "Applying",
    commands: WATCH_REPORTS,
    help:
      "answer nginx's resolver for SERVICE.lbsync.internal, so the\nnginx templates find services by name and server changes need\nno reload (PORT binds 127.0.0.1)",
  },
  {
    name: "nginx-dns-public",
    type: "boolean",
    section: "Applying",
    commands: WATCH,
    help:
      "let --nginx-dns bind an address off loopback (a DNS server others\nreach can be made to flood a third party: firewall it)",
  },
  {
    name: "heartbeat",
    type: "string",
    value: "MIN[:MAX]",
    section: "Watch",
    commands: WATCH,
    help: `a batch of events closes MIN after the last event or MAX after\nthe first (default ${
      d(DEFAULTS.heartbeat.minMs)
    }:${d(DEFAULTS.heartbeat.maxMs)})`,
  },
  {
    name: "resync",
    type: "string",
    value: "DUR",
    section: "Watch",
    commands: WATCH,
    help: `full re-list every DUR (default ${d(DEFAULTS.resyncMs)}, ${
      d(DEFAULTS.swarmResyncMs)
    } with --swarm; 0: never)`,
  },
  {
    name: "since",
    type: "string",
    value: "TIME",
    section: "Watch",
    commands: WATCH,
    help:
      "start the event streams at TIME (unix seconds, RFC 3339, or a\nduration ago such as 10m)",
  },
  {
    name: "status-listen",
    type: "string",
    value: "ADDR",
    section: "Watch",
    commands: WATCH,
    help:
      "serve GET /healthz, /status, /explain, /model, /metrics and POST\n/resync on ADDR (PORT or HOST:PORT; a bare port binds 127.0.0.1)",
  },
  {
    name: "admin-listen",
    type: "string",
    value: "ADDR",
    section: "Watch",
    commands: WATCH,
    help:
      "serve the admin API over the static services of --config on\nADDR (a bare port binds 127.0.0.1; off loopback a token is\nrequired)",
  },
  {
    name: "admin-token-file",
    type: "string",
    value: "FILE",
    section: "Watch",
    commands: WATCH,
    help: "the admin API's bearer token (a file readable by its owner only)",
  },
  {
    name: "store",
    type: "string",
    value: "etcd://H:P[,H:P...]/PREFIX",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help:
      "static services in etcd under PREFIX, one key per service, in\nplace of the config file's services; watch follows them and\nthe admin API edits them (etcds:// for TLS)",
  },
  {
    name: "store-ca",
    type: "string",
    value: "FILE",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help: "CA certificate of the etcd members (TLS)",
  },
  {
    name: "store-cert",
    type: "string",
    value: "FILE",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help: "client certificate for etcd (with --store-key)",
  },
  {
    name: "store-key",
    type: "string",
    value: "FILE",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help: "client key for etcd",
  },
  {
    name: "store-user",
    type: "string",
    value: "NAME",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help: "etcd user (with --store-password-file)",
  },
  {
    name: "store-password-file",
    type: "string",
    value: "FILE",
    section: "Store (static services shared through etcd)",
    commands: ALL,
    help: "the etcd user's password, on the file's first line",
  },
  {
    name: "format",
    type: "string",
    value: "text|json",
    section: "Output",
    commands: REPORTS,
    config: false,
    help: "explain and route output (default text)",
  },
  {
    name: "log-format",
    type: "string",
    value: "text|json",
    section: "Output",
    commands: ALL,
    help: "log lines on stderr (default text)",
  },
  {
    name: "quiet",
    short: "q",
    type: "boolean",
    section: "Output",
    commands: ALL,
    config: false,
    help: "errors only",
  },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    section: "Output",
    commands: ALL,
    config: false,
    help: "every skipped container, each write, stack traces",
  },
  {
    name: "help",
    short: "h",
    type: "boolean",
    section: "Output",
    commands: ALL,
    config: false,
    help: "this help; lbsync help COMMAND for one command",
  },
  {
    name: "version",
    type: "boolean",
    section: "Output",
    commands: ALL,
    config: false,
    help: "the version",
  },
];

/** The option named `name` (long form), if any. */
export function findOption(name: string): OptionSpec | undefined {
  return OPTION_SPECS.find((o) => o.name === name);
}

/**
 * The known option closest to a mistyped one (by edit distance, at most a third of its
 * length), for `Unknown option --ouput; did you mean --output?`.
 */
export function closestOption(typed: string): string | undefined {
  const word = typed.replace(/^-+/, "").split("=")[0];
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const o of OPTION_SPECS) {
    const d = editDistance(word, o.name);
    if (d < bestDistance) [best, bestDistance] = [o.name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

/**
 * The flag of a library setting a reason points to (`includeUnhealthy` -> `--include-unhealthy`),
 * so the command line's messages name what its user types.
 */
export function flagOf(setting: SettingName): string {
  const name = setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (!OPTION_SPECS.some((o) => o.name === name)) return setting;
  return `--${name}`;
}
