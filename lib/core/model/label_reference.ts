/**
 * What each label means and what it defaults to, in the order the reference lists them: the
 * labels table of docs/labels.md is generated from this (`deno task docs`), and a test keeps the
 * two equal. Pure data.
 *
 * @module
 */

import type { ContainerLabels } from "./labels.ts";

/** One label's reference row. */
export interface LabelReference {
  /** What the label says. */
  meaning: string;
  /** What holds when the label is absent. */
  default: string;
}

/** Every label of {@link ContainerLabels}, by field (the suffix is `LABEL_NAMES`' entry). */
export const LABEL_REFERENCE: Record<keyof ContainerLabels, LabelReference> = {
  enable: { meaning: "`true` / `false`", default: "" },
  service: {
    meaning: "service name: one nginx upstream / HAProxy backend",
    default:
      "named group `service` of `--match` / `--match-image`, else `--service` for containers a rule selected, else `com.docker.compose.service`, else the container name",
  },
  port: {
    meaning: "container port that receives traffic",
    default: "the only exposed port; several and no label: skipped",
  },
  hosts: {
    meaning: "comma-separated host names (`*.example.com`, `~REGEX` allowed)",
    default: "none: the default route",
  },
  path: {
    meaning:
      "path prefix routed to the service, or `~REGEX` (case-sensitive, in lbsync's [path dialect](routing.md), tried before prefixes as nginx's regex locations)",
    default: "`/`",
  },
  dest: {
    meaning:
      "path that replaces the `path` prefix in the request sent to the servers (`/app/x` as `/x` with `path=/app/`, `dest=/`)",
    default: "none: the path as requested",
  },
  weight: { meaning: "1..256", default: "1" },
  backup: { meaning: "`true`: serves only when no primary server is up", default: "`false`" },
  mode: { meaning: "`http` or `tcp`", default: "`http`" },
  listen: {
    meaning: "port the balancer listens on for this service (required for tcp)",
    default: "`--listen` (80)",
  },
  httpslisten: {
    meaning:
      "with a certificate (`--cert-dir`): the port its hosts are served on over HTTPS, and their HTTP redirect's (nginx-proxy's `EXTERNAL_HTTPS_PORT`); hosts of the `--listen` port only",
    default: "`--https-listen` (443)",
  },
  network: { meaning: "network whose address to use", default: "`--network`" },
  health: { meaning: "HTTP path for health checks and readiness", default: "none" },
  rollover: {
    meaning: "`true`: only the newest ready container of the service serves",
    default: "`false` (`--rollover`)",
  },
  https: {
    meaning: "with a certificate (`--cert-dir`): `redirect`, `noredirect`, `nohttp`, `nohttps`",
    default: "`redirect`",
  },
  hsts: {
    meaning:
      "Strict-Transport-Security over HTTPS: `max-age=N[; includeSubDomains][; preload]` or `off`",
    default: "none (`max-age=31536000` with `--compat nginx-proxy`)",
  },
  cert: {
    meaning: "the certificate's name (`NAME.crt`, `NAME.key`) instead of the host's",
    default: "found by host",
  },
  acme: {
    meaning: "`true`: its exact hosts get certificates from `--acme-directory`",
    default: "`false`",
  },
  acmewebroot: {
    meaning:
      "`true` / `false`: HTTP requests for `/.well-known/acme-challenge/` of its HTTPS hosts are answered from `--acme-webroot` (nginx)",
    default: "`true` with `--acme-webroot`, `false` with `--acme-webroot-opt-in`",
  },
  nongetredirect: {
    meaning:
      "the status of the HTTPS redirect for OPTIONS, POST, PUT, PATCH and DELETE requests: `301`, `302`, `303`, `307`, `308`",
    default: "`--non-get-redirect` (301)",
  },
  trustdefaultcert: {
    meaning:
      "`true` / `false`: its hosts without a certificate of their own are served over HTTPS with `default.crt` (nginx-proxy's `trust-default-cert` label)",
    default: "`--trust-default-cert`",
  },
  httponmissingcert: {
    meaning:
      "`true` / `false`: with no certificate to use, its hosts stay on HTTP whatever their HTTPS mode says (nginx-proxy's `ENABLE_HTTP_ON_MISSING_CERT`)",
    default: "`--http-on-missing-cert` (`true`)",
  },
  sslverifyclient: {
    meaning:
      "`on` / `optional`: with a client CA (`HOST.ca.crt` or `ca.crt` in `--cert-dir`), whether a client without a certificate is answered 400 (`on`) or let in with `$ssl_client_verify` set for nginx snippets (`optional`; one that does not verify is 400 either way; nginx-proxy's `ssl_verify_client` label); nginx and HAProxy alike, but HAProxy asks none of a regex host",
    default: "`on`",
  },
  servertokens: {
    meaning:
      "`off`: nginx's `Server` header for its hosts says `nginx` without the version (nginx)",
    default: "nginx's: `on`",
  },
  access: {
    meaning:
      "`internal`: only clients of `--internal-networks` are answered (others 403): the service's routes, and the whole host when it is the host's service (its `/`, else its first route; not under `--compat nginx-proxy`, whose `NETWORK_ACCESS` guards its paths only); `external`",
    default: "`external`",
  },
  balance: {
    meaning:
      "`roundrobin`, `leastconn`, `source` (client address; nginx `hash $remote_addr`), `random`; not `source`/`random` with backup servers",
    default: "`roundrobin`",
  },
  keepalive: {
    meaning:
      "idle connections nginx keeps to the servers, `auto` (twice its servers), or `disabled`: a connection a request, the servers told `Connection: close` as nginx-proxy tells them (HAProxy: `http-reuse never`, `option http-server-close`)",
    default: "`32` (`auto` with `--compat nginx-proxy`)",
  },
  proto: {
    meaning:
      "`https`: the servers speak TLS (not verified, as nginx and HAProxy do by default); readiness probes connect over TCP",
    default: "`http`",
  },
};
