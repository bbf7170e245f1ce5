/**
 * `lbsync store import FILE` and `lbsync store export`: static services between a config file
 * and the store (`--store`). Import validates every service of the file first, then writes them
 * all in one transaction (a service of the same name is replaced; others stay); export prints
 * the store's services as a config file's `services`. Loaded only for `lbsync store`.
 *
 * @module
 */
import { ConfigError, errorMessage, fileErrorReason, UsageError } from "../core/errors.ts";
import { parseStaticServices } from "../core/input/static_services.ts";
import { servicesOfEntries, storeKey } from "../core/input/store_entries.ts";
import { isObject, parseJson } from "../core/util/json_access.ts";
import { closestOption, OPTION_SPECS } from "../settings/options.ts";
import { parseArgv } from "../settings/argv.ts";
import { storeOptionsOf } from "../settings/cli_args.ts";
import { openStore, type StoreOptions } from "../sources/store.ts";
import type { CliIo } from "./cli_io.ts";

/** Usage of `lbsync store`. */
export const STORE_USAGE =
  "lbsync store import FILE --store URL   the services of config FILE into the store\n" +
  "lbsync store export --store URL        the store's services, as a config file's services";

/** The `--store*` options, as the option table declares them. */
const STORE_OPTIONS = OPTION_SPECS.filter((o) => o.name === "store" || o.name.startsWith("store-"));

/**
 * Runs `lbsync store ARGS`; returns the exit code (0, 1 when the store fails, 2 for usage).
 */
export async function runStoreCommand(args: string[], io: CliIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`${STORE_USAGE}\n`);
    return 0;
  }
  let action: string;
  let file: string | undefined;
  let options: StoreOptions;
  try {
    ({ action, file, options } = parseStoreArgs(args));
  } catch (error) {
    io.stderr(`lbsync: error: ${errorMessage(error)}\n`);
    return 2;
  }
  try {
    const { client, prefix, url } = await openStore(options);
    try {
      if (action === "export") {
        const read = servicesOfEntries(prefix, (await client.range(prefix)).entries);
        for (const warning of read.warnings) io.stderr(`lbsync: warning: ${warning}\n`);
        io.stdout(`${JSON.stringify({ services: read.documents }, null, 2)}\n`);
        return 0;
      }
      const services = await readServices(file!, io);
      const ops = services.map((s) => ({
        key: storeKey(prefix, String(s.name)),
        value: JSON.stringify(s),
      }));
      const done = await client.txn([], ops);
      io.stderr(
        `lbsync: imported ${ops.length} services into ${url} (revision ${done.revision})\n`,
      );
      return 0;
    } finally {
      await client.close();
    }
  } catch (error) {
    io.stderr(`lbsync: error: ${errorMessage(error)}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

function parseStoreArgs(
  args: string[],
): { action: string; file?: string; options: StoreOptions } {
  let parsed;
  try {
    parsed = parseArgv(args, STORE_OPTIONS, closestOption);
  } catch (error) {
    throw new UsageError(`${errorMessage(error)}\n${STORE_USAGE}`);
  }
  const [action, file, ...rest] = parsed.positionals;
  const values = parsed.values as Record<string, string | undefined>;
  const fits = (action === "import" && file !== undefined && rest.length === 0) ||
    (action === "export" && file === undefined);
  if (!fits) throw new UsageError(`Use:\n${STORE_USAGE}`);
  if (values.store === undefined) throw new UsageError(`lbsync store ${action} needs --store URL`);
  return {
    action,
    file,
    options: storeOptionsOf(values.store, values),
  };
}

/** The `services` of a config file, each validated; written back as they are in the file. */
async function readServices(path: string, io: CliIo): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await io.readTextFile(path);
  } catch (error) {
    throw new ConfigError(`Cannot read config ${path}: ${fileErrorReason(error)}`);
  }
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (error) {
    throw new ConfigError(`Invalid config ${path}: not valid JSON (${errorMessage(error)})`);
  }
  const services = isObject(json) ? json.services : undefined;
  parseStaticServices(services, path);
  const docs = services as Record<string, unknown>[];
  const names = new Set<string>();
  for (const [i, s] of docs.entries()) {
    if (names.has(String(s.name))) {
      throw new ConfigError(`Invalid config ${path}: $.services[${i}].name: ${s.name} twice`);
    }
    names.add(String(s.name));
  }
  return docs;
}
