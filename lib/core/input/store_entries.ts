/**
 * Static services kept in a key-value store (`--store`): one key per service under a prefix,
 * `PREFIX/NAME`, whose value is the service's JSON as a config file's `services` holds it.
 * Pure: the store's entries in, validated services out (a value that fails is skipped with its
 * key named); and an edit of the services out, as the transaction that makes it.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import { isObject, parseJson } from "../util/json_access.ts";
import type { StaticService } from "../types.ts";
import { parseStaticService } from "./static_services.ts";

/** A key as the store holds it. */
export interface KeyValue {
  key: string;
  value: string;
  /** The store's revision of its last change (0: the key is absent). */
  modRevision: number;
}

/** The services read from a store. */
export interface StoreServices {
  /** Valid services, sorted by name. */
  services: StaticService[];
  /** Their JSON as the store holds it (with `name`), in the same order. */
  documents: Record<string, unknown>[];
  /** One line per key skipped: the key and why. */
  warnings: string[];
}

/** The largest value read as a service, in bytes (the admin API's body limit). */
export const MAX_SERVICE_VALUE = 64 * 1024;

/** The key of service `name` under `prefix` (which ends with `/`). */
export function storeKey(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/**
 * Validates the entries under `prefix`: each value must be a service's JSON, its `name` (if
 * given) the key's last part.
 *
 * @example
 * ```ts
 * import { servicesOfEntries } from "./store_entries.ts";
 * const read = servicesOfEntries("/lbsync/", [
 *   { key: "/lbsync/web", value: '{"servers":[{"host":"10.0.0.9","port":80}]}', modRevision: 7 },
 *   { key: "/lbsync/bad", value: "{", modRevision: 8 },
 * ]);
 * console.log(read.services[0].name, read.warnings.length); // web 1
 * ```
 */
export function servicesOfEntries(prefix: string, entries: readonly KeyValue[]): StoreServices {
  const found: { service: StaticService; document: Record<string, unknown> }[] = [];
  const warnings: string[] = [];
  for (const entry of [...entries].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) {
    try {
      found.push(parseEntry(prefix, entry));
    } catch (error) {
      warnings.push(`store key ${entry.key} skipped: ${errorMessage(error)}`);
    }
  }
  return {
    services: found.map((f) => f.service),
    documents: found.map((f) => f.document),
    warnings,
  };
}

function parseEntry(
  prefix: string,
  entry: KeyValue,
): { service: StaticService; document: Record<string, unknown> } {
  const name = entry.key.slice(prefix.length);
  if (!entry.key.startsWith(prefix) || name.includes("/")) {
    throw new Error("not a service key (PREFIX/NAME)");
  }
  if (entry.value.length > MAX_SERVICE_VALUE) {
    throw new Error(`the value is over ${MAX_SERVICE_VALUE} bytes`);
  }
  let json: unknown;
  try {
    json = parseJson(entry.value);
  } catch (error) {
    throw new Error(`not valid JSON (${errorMessage(error)})`);
  }
  if (!isObject(json)) throw new Error("$: expected an object");
  const document = { ...json, name: json.name ?? name };
  const service = parseStaticService(document, "$", (path, why) => new Error(`${path}: ${why}`));
  if (service.name !== name) {
    throw new Error(`$.name: ${JSON.stringify(service.name)} is not the key's name ${name}`);
  }
  return { service, document };
}

/** A transaction that turns the services as read into the services wanted. */
export interface StoreChange {
  /** Each touched key's mod revision as read (0: absent): the transaction's conditions. */
  compares: { key: string; modRevision: number }[];
  /** Puts (with the JSON) and deletes (no value). */
  ops: { key: string; value?: string }[];
}

/**
 * The keys to put and delete so that the store holds `after` where it held `before` (each
 * a list of service documents with `name`), conditioned on the revisions in `entries`: a
 * concurrent change to a touched key makes the transaction fail rather than be lost.
 */
export function storeChange(
  prefix: string,
  entries: readonly KeyValue[],
  before: readonly Record<string, unknown>[],
  after: readonly Record<string, unknown>[],
): StoreChange {
  const byName = (docs: readonly Record<string, unknown>[]) =>
    new Map(docs.map((d) => [String(d.name), JSON.stringify(d)]));
  const was = byName(before);
  const wanted = byName(after);
  const revisions = new Map(entries.map((e) => [e.key, e.modRevision]));
  const change: StoreChange = { compares: [], ops: [] };
  for (const name of [...new Set([...was.keys(), ...wanted.keys()])].sort()) {
    const value = wanted.get(name);
    if (value === was.get(name)) continue;
    const key = storeKey(prefix, name);
    change.compares.push({ key, modRevision: revisions.get(key) ?? 0 });
    change.ops.push(value === undefined ? { key } : { key, value });
  }
  return change;
}
