/**
 * Docker Engine endpoints: `unix:///path`, `tcp://host:port`, `http://`, `https://`, with TLS
 * from `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` or explicit files. Pure.
 *
 * @module
 */
import { ConfigError } from "../core/errors.ts";

/** Paths of the TLS files of an endpoint. */
export interface TlsFiles {
  /** CA certificate (PEM) that signed the engine's certificate. */
  ca?: string;
  /** Client certificate (PEM). */
  cert?: string;
  /** Client key (PEM). */
  key?: string;
}

/** A parsed engine endpoint. */
export interface DockerEndpoint {
  /** The endpoint as the user wrote it, used in messages and as the engine name. */
  url: string;
  /** Unix socket path, for `unix://`. */
  socketPath?: string;
  /** Host, for tcp, http and https. */
  host?: string;
  /** Port, for tcp, http and https. */
  port?: number;
  /** `http` or `https`. */
  protocol?: "http" | "https";
  /** TLS files for https. */
  tls?: TlsFiles;
  /** API version to request (`DOCKER_API_VERSION`); unset: the engine's own. */
  apiVersion?: string;
}

/** Where endpoints come from besides `--docker`. */
export interface EndpointSettings {
  /** `--docker` values; empty: `DOCKER_HOST`, else the default socket. */
  urls?: string[];
  /** `--tls-ca`, `--tls-cert`, `--tls-key`. */
  tls?: TlsFiles;
  /**
   * The environment: `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`,
   * `DOCKER_API_VERSION`.
   */
  env?: Record<string, string | undefined>;
}

/** The engine used when nothing else is configured. */
export const DEFAULT_DOCKER_URL = "unix:///var/run/docker.sock";

/**
 * The endpoints to list containers from.
 *
 * @example
 * ```ts
 * import { resolveEndpoints } from "./docker_endpoint.ts";
 * const [e] = resolveEndpoints({ urls: ["tcp://10.0.0.5:2376"], env: { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" } });
 * console.log(e.protocol, e.port, e.tls?.ca); // https 2376 /certs/ca.pem
 * ```
 *
 * @throws {ConfigError} for a URL lbsync cannot use
 */
export function resolveEndpoints(settings: EndpointSettings = {}): DockerEndpoint[] {
  const env = settings.env ?? {};
  const urls = settings.urls?.length ? settings.urls : [env.DOCKER_HOST || DEFAULT_DOCKER_URL];
  const certPath = env.DOCKER_CERT_PATH;
  const envTls: TlsFiles | undefined = env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== "0"
    ? {
      ca: `${certPath || `${env.HOME ?? ""}/.docker`}/ca.pem`,
      cert: `${certPath || `${env.HOME ?? ""}/.docker`}/cert.pem`,
      key: `${certPath || `${env.HOME ?? ""}/.docker`}/key.pem`,
    }
    : undefined;
  const flagTls = settings.tls && Object.values(settings.tls).some((v) => v !== undefined)
    ? settings.tls
    : undefined;
  const apiVersion = env.DOCKER_API_VERSION || undefined;
  if (apiVersion !== undefined && !/^[0-9]{1,2}\.[0-9]{1,3}$/.test(apiVersion)) {
    throw new ConfigError(
      `Invalid DOCKER_API_VERSION ${JSON.stringify(apiVersion)}: use MAJOR.MINOR, e.g. 1.41`,
    );
  }
  return [...new Set(urls)].map((url) => ({
    ...parseEndpoint(url, flagTls ?? envTls),
    ...(apiVersion ? { apiVersion } : {}),
  }));
}

/**
 * Parses one endpoint URL. `tcp://` becomes `https` when TLS files are given, else `http`.
 *
 * @throws {ConfigError} naming the URL and what is wrong with it
 */
export function parseEndpoint(url: string, tls?: TlsFiles): DockerEndpoint {
  const bad = (why: string) =>
    new ConfigError(`Invalid Docker endpoint ${JSON.stringify(url)}: ${why}`);
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (scheme === "unix") {
    const socketPath = url.slice("unix://".length);
    if (!socketPath.startsWith("/")) {
      throw bad("a unix socket needs an absolute path (unix:///run/docker.sock)");
    }
    return { url, socketPath };
  }
  if (scheme !== "tcp" && scheme !== "http" && scheme !== "https") {
    throw bad("use unix://, tcp://, http:// or https://");
  }
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/^tcp:/, "http:"));
  } catch {
    throw bad("not a URL");
  }
  if (parsed.pathname !== "/" || parsed.search || parsed.username) {
    throw bad("give only host and port");
  }
  const protocol = scheme === "https" || (scheme === "tcp" && tls) ? "https" : "http";
  const port = parsed.port ? Number(parsed.port) : protocol === "https" ? 2376 : 2375;
  return {
    url,
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    protocol,
    ...(protocol === "https" ? { tls: tls ?? {} } : {}),
  };
}
