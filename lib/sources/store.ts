/**
 * `--store etcd://HOST:PORT[,HOST:PORT...]/PREFIX`: where the shared static services live, how
 * to reach them (TLS, user and password), and one read of them. Loaded only with `--store`.
 *
 * @module
 */
import { ConfigError, fileErrorReason } from "../core/errors.ts";
import { servicesOfEntries, type StoreServices } from "../core/input/store_entries.ts";
import { EtcdClient } from "./etcd_client.ts";

/** The `--store` options as given. */
export interface StoreOptions {
  /** `etcd://HOST:PORT[,HOST:PORT...]/PREFIX` (`etcds://` for TLS). */
  url: string;
  /** `--store-ca`: PEM file of the CA that signed the members' certificates (TLS). */
  ca?: string;
  /** `--store-cert`: PEM file of the client certificate. */
  cert?: string;
  /** `--store-key`: PEM file of the client certificate's key. */
  key?: string;
  /** `--store-user`: etcd's user and password auth. */
  user?: string;
  /** `--store-password-file`: the user's password on the file's first line. */
  passwordFile?: string;
}

/** A store URL, parsed. */
export interface StoreAddress {
  endpoints: string[];
  /** The key prefix, `/` first and last: `/lbsync/services/`. */
  prefix: string;
  tls: boolean;
}

const URL_FORM = /^(etcds?):\/\/([^/]+)(\/.*)?$/;
const PREFIX_PART = /^[A-Za-z0-9_.-]+$/;
const MEMBER = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Parses `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`.
 *
 * @example
 * ```ts
 * import { parseStoreUrl } from "./store.ts";
 * console.log(parseStoreUrl("etcd://10.0.0.1:2379,10.0.0.2:2379/lbsync").prefix); // /lbsync/
 * ```
 *
 * @throws {ConfigError} naming what is wrong
 */
export function parseStoreUrl(url: string): StoreAddress {
  const bad = (why: string) => new ConfigError(`Invalid --store ${url}: ${why}`);
  const match = URL_FORM.exec(url);
  if (!match) throw bad("expected etcd://HOST:PORT[,HOST:PORT...]/PREFIX");
  const [, scheme, hosts, path = "/"] = match;
  const endpoints = hosts.split(",").map((h) => {
    const port = Number(MEMBER.exec(h)?.[2]);
    if (!(port >= 1 && port <= 65535)) throw bad(`${JSON.stringify(h)} is not HOST:PORT`);
    return h;
  });
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0) throw bad("a PREFIX is required (e.g. /lbsync)");
  if (!parts.every((p) => PREFIX_PART.test(p))) {
    throw bad("the PREFIX may hold A-Z a-z 0-9 _ . - between slashes");
  }
  return { endpoints, prefix: `/${parts.join("/")}/`, tls: scheme === "etcds" };
}

/**
 * A client of the store of `options`, and its prefix.
 *
 * @throws {ConfigError} for a bad URL or an unreadable password file
 */
export async function openStore(
  options: StoreOptions,
): Promise<{ client: EtcdClient; prefix: string; url: string }> {
  const address = parseStoreUrl(options.url);
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new ConfigError("--store-cert and --store-key go together");
  }
  if ((options.user === undefined) !== (options.passwordFile === undefined)) {
    throw new ConfigError("--store-user and --store-password-file go together");
  }
  const client = new EtcdClient({
    endpoints: address.endpoints,
    tls: address.tls || options.ca !== undefined || options.cert !== undefined,
    caFile: options.ca,
    certFile: options.cert,
    keyFile: options.key,
    user: options.user,
    password: options.passwordFile && await readPassword(options.passwordFile),
  });
  return { client, prefix: address.prefix, url: options.url };
}

async function readPassword(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).split("\n")[0].trim();
  } catch (error) {
    throw new ConfigError(`Cannot read --store-password-file ${path}: ${fileErrorReason(error)}`);
  }
}

/**
 * The services of the store, read once (render, explain, route).
 *
 * @throws {StoreError} when no member answers
 */
export async function readStore(options: StoreOptions): Promise<StoreServices> {
  const { client, prefix } = await openStore(options);
  try {
    return servicesOfEntries(prefix, (await client.range(prefix)).entries);
  } finally {
    await client.close();
  }
}
