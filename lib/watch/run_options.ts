/**
 * What a pass and a watch take: where containers come from, what to render, and watch mode's
 * own settings. Types only; `run_settings.ts` finalizes them.
 *
 * @module
 */
import type { ApplySettings } from "../apply/apply.ts";
import type { Target } from "../apply/targets.ts";
import type { Heartbeat } from "../core/heartbeat.ts";
import type { ModelOptions } from "../core/types.ts";
import type { EndpointSettings } from "../sources/docker_endpoint.ts";
import type { StoreOptions } from "../sources/store.ts";

/** Where containers come from and what to render. */
export interface RunOptions extends ModelOptions {
  /** Docker API JSON files (`-` = standard input). */
  fromFiles?: string[];
  /**
   * Docker Engines. Used when `urls` are given, or when there are no `fromFiles` (then
   * `DOCKER_HOST` from `env`, else the default socket).
   */
  docker?: EndpointSettings;
  /** Render from the engines that answered when others fail. */
  allowPartial?: boolean;
  /** Timeout of each Docker request in milliseconds (default 10 s). */
  dockerTimeoutMs?: number;
  /** The engines are Swarm managers: list services' tasks (`vip`: the service VIPs). */
  swarm?: { vip?: boolean };
  /** Templates and outputs. */
  targets?: Target[];
  /** Backups, dry run, timeouts. */
  apply?: Omit<ApplySettings, "notify">;
  /** Signal this container through the Docker API after a changed apply. */
  signalContainer?: { name: string; signal: string };
  /** How long a new container may take to pass its readiness probe, default 10 s. */
  readyTimeoutMs?: number;
  /** How long a server removed through the HAProxy runtime API may drain, default 10 s. */
  drainTimeoutMs?: number;
  /**
   * HTTPS: the certificate directory (`NAME.crt` and `NAME.key`, nginx-proxy's layout);
   * read at every pass into `certificates`.
   */
  certDir?: string;
  /** The htpasswd directory (nginx-proxy's `/etc/nginx/htpasswd`), read at every pass. */
  htpasswdDir?: string;
  /** The vhost directory (nginx-proxy's `/etc/nginx/vhost.d`), read at every pass. */
  vhostDir?: string;
  /** The proxy settings file (nginx-proxy's `/etc/nginx/proxy.conf`), used when it exists. */
  proxyConf?: string;
  /** `--dhparam`: Diffie-Hellman parameters, when the file exists. */
  dhparam?: string;
  /** nginx-proxy's `/etc/nginx/network_internal.conf`, used when it exists. */
  networkInternalConf?: string;
  /** nginx-proxy's `/usr/share/nginx/html/errors/50x.html`, used when it exists. */
  errorPage?: string;
  /** `--store`: the static services live in etcd, in place of `staticServices`. */
  store?: StoreOptions;
}

/** Settings of watch mode. */
export interface WatchOptions extends RunOptions {
  /** Batching, default 500ms:2s. */
  heartbeat?: Heartbeat;
  /** Full re-list every this many milliseconds, default 60 s; 0 disables. */
  resyncMs?: number;
  /** Start the event streams at this time (Docker `since`). */
  since?: string;
  /** The config file, watched and re-read through `reloadOptions`. */
  configPath?: string;
  /** Stop containers retired by a rollover after this many milliseconds (off when unset). */
  retireAfterMs?: number;
  /** `--status-listen`: where the CLI serves /healthz, /status, /metrics. */
  statusListen?: string;
  /** `--admin-listen`: where the CLI serves the admin API (needs `configPath`). */
  adminListen?: string;
  /** `--nginx-dns-public`: the DNS server may bind an address off loopback. */
  nginxDnsPublic?: boolean;
  /** `--acme-directory`: certificates for `lbsync.acme` hosts from this ACME server. */
  acmeDirectory?: string;
  /** `--acme-email`: the ACME account's contact. */
  acmeEmail?: string;
  /** `--acme-ca-file`: PEM certificates to trust for the ACME server's TLS. */
  acmeCaFile?: string;
  /** `--acme-listen`: where lbsync answers HTTP-01 challenges (default 127.0.0.1, a free port). */
  acmeListen?: string;
  /** `--admin-token-file`: the file holding the admin API's bearer token. */
  adminTokenFile?: string;
}
