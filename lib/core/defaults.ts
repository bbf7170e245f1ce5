/**
 * lbsync's defaults, each written once: the code reads them here, and the help text and the
 * README print them from here. Pure.
 *
 * @module
 */

/** Every default value of lbsync's settings. */
export const DEFAULTS = Object.freeze({
  /** `--label-prefix`: labels are `lbsync.service`, `lbsync.port`, ... */
  labelPrefix: "lbsync",
  /** `--name-prefix`: generated upstream and backend names start with it. */
  namePrefix: "lbsync_",
  /** `--listen`: the port http services listen on. */
  listen: 80,
  /** `--docker-timeout`: the deadline of each Engine API request, headers and body. */
  dockerTimeoutMs: 10_000,
  /** `--connect-timeout`: how long the balancer tries a server before another. */
  connectTimeoutMs: 2_000,
  /** `--ready-timeout`: how long a new container may take to pass its probe. */
  readyTimeoutMs: 10_000,
  /** The longest one readiness probe may take. */
  probeTimeoutMs: 2_000,
  /** `--from-status`: the deadline of reading a watch's model, headers and body. */
  statusTimeoutMs: 10_000,
  /** `--command-timeout`: bound of check and reload commands. */
  commandTimeoutMs: 30_000,
  /** `--lock-timeout`: the longest wait for another run's lock. */
  lockTimeoutMs: 30_000,
  /** `--confirm-timeout`: the longest wait for the balancer to serve a new generation. */
  confirmTimeoutMs: 10_000,
  /** `--keep-backups`: backups kept per output. */
  keepBackups: 10,
  /** `--drain-timeout`: the longest a server removed at runtime keeps its connections. */
  drainTimeoutMs: 10_000,
  /** `--heartbeat`: batches close MIN after their last event or MAX after their first. */
  heartbeat: Object.freeze({ minMs: 500, maxMs: 2_000 }),
  /** `--https-listen`: the HTTPS port of hosts with a certificate. */
  httpsListen: 443,
  /** `lbsync.https`: how a host with a certificate is served. */
  httpsMode: "redirect" as const,
  /** `--internal-networks`: the clients `lbsync.access=internal` hosts answer (nginx-proxy's). */
  internalNetworks: Object.freeze([
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
  ]),
  /** `lbsync.keepalive`: idle connections nginx keeps open to a service's servers. */
  keepalive: 32,
  /** `--resync`: a full re-list this often. */
  resyncMs: 60_000,
  /** `--resync` with `--swarm`: Swarm has no task events, so more often. */
  swarmResyncMs: 5_000,
});
