/**
 * {@link ModelOptions} finalized: checked once and with every default applied, so the model's
 * code reads a setting and never restates its default (consul-template's `Finalize`). Pure.
 *
 * @module
 */
import { DEFAULTS } from "../defaults.ts";
import { ConfigError } from "../errors.ts";
import { parseDefaultRoot } from "./default_root.ts";
import { parseIp, parseResolvers } from "../util/grammar.ts";
import type { ModelOptions } from "../types.ts";

/** The options with a default, filled in. */
type Defaulted =
  | "labelPrefix"
  | "namePrefix"
  | "address"
  | "listen"
  | "httpsListen"
  | "connectTimeoutMs"
  | "internalNetworks";

/** What {@link buildModel} works from: valid options, every default applied. */
export type ModelSettings = Readonly<
  Omit<ModelOptions, Defaulted> & Required<Pick<ModelOptions, Defaulted>> & {
    /**
     * `--compat nginx-proxy` without `--name-prefix`: a service named like a domain (with a
     * dot, not an address) names its upstream without the prefix, as nginx-proxy names it
     * after the host, so the operator's vhost.d snippets can `proxy_pass` to it. A name
     * without a dot keeps the prefix: no container takes an implicit upstream like `localhost`.
     */
    hostNamedBackends: boolean;
    /**
     * The networks of {@link ModelOptions.balancerContainer} (found among the containers at
     * `buildModel`'s entry); unset when every network is reachable.
     */
    reachableNetworks?: ReadonlySet<string>;
  }
>;

/**
 * Checks `options` and applies the defaults.
 *
 * @example
 * ```ts
 * import { finalizeModelOptions } from "./model_settings.ts";
 * console.log(finalizeModelOptions({}).listen); // 80
 * ```
 *
 * @throws {ConfigError} naming the option and the reason, e.g. `Invalid listen port 0: ...`
 */
export function finalizeModelOptions(options: ModelOptions): ModelSettings {
  validate(options);
  return {
    ...options,
    labelPrefix: options.labelPrefix ?? DEFAULTS.labelPrefix,
    namePrefix: options.namePrefix ?? DEFAULTS.namePrefix,
    // finalizing settings again keeps what the first finalize found (run settings are finalized
    // at the run's entry, then again at buildModel's, after namePrefix got its default)
    hostNamedBackends: (options as Partial<ModelSettings>).hostNamedBackends ??
      (options.compat === "nginx-proxy" && options.namePrefix === undefined),
    address: options.address ?? "network",
    listen: options.listen ?? DEFAULTS.listen,
    httpsListen: options.httpsListen ?? DEFAULTS.httpsListen,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    internalNetworks: options.internalNetworks ?? DEFAULTS.internalNetworks,
  };
}

function validate(options: ModelOptions): void {
  const check = (what: string, fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      throw new ConfigError(`Invalid ${what}: ${(error as Error).message}`);
    }
  };
  if (options.hostIp !== undefined) check("host IP", () => parseIp(options.hostIp!));
  if (options.defaultRoot !== undefined) parseDefaultRoot(options.defaultRoot);
  if (options.resolvers !== undefined) {
    const given = options.resolvers.join(" ");
    check("resolvers", () => {
      if (parseResolvers(given).join(" ") !== given) {
        throw new Error("not as parseResolvers writes them");
      }
    });
  }
  if (options.listenAddress !== undefined) {
    check("listen address", () => parseIp(options.listenAddress!));
  }
  const connect = options.connectTimeoutMs;
  if (connect !== undefined && (!Number.isInteger(connect) || connect < 1)) {
    throw new ConfigError(`Invalid connect timeout ${connect}: at least 1 ms`);
  }
  for (const [what, port] of [["listen", options.listen], ["HTTPS", options.httpsListen]]) {
    if (port !== undefined && !isPort(port)) {
      throw new ConfigError(`Invalid ${what} port ${port}: not an integer in 1..65535`);
    }
  }
  if (options.address !== undefined && !["network", "published"].includes(options.address)) {
    throw new ConfigError(
      `Invalid address mode ${JSON.stringify(options.address)}: not network or published`,
    );
  }
  if (
    options.namePrefix !== undefined &&
    !/^(?:[A-Za-z][A-Za-z0-9_]{0,31})?$/.test(options.namePrefix)
  ) {
    throw new ConfigError(
      `Invalid name prefix ${
        JSON.stringify(options.namePrefix)
      }: use A-Z a-z 0-9 _, starting with a letter, at most 32 (or nothing)`,
    );
  }
  if (
    options.labelPrefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(options.labelPrefix)
  ) {
    throw new ConfigError(
      `Invalid label prefix ${JSON.stringify(options.labelPrefix)}: use A-Z a-z 0-9 _ . -`,
    );
  }
}

function isPort(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}
