/**
 * Certificates from an ACME server (Let's Encrypt, or any RFC 8555 server) through the
 * HTTP-01 challenge, with the `acme-client` package: for each host that wants one, an order
 * when its certificate is missing or two thirds through its lifetime. Certificates and keys
 * land in the certificate directory (`HOST.crt`, `HOST.key` mode 0600), each written
 * atomically; the watch loop sees the files and reloads. A failure is reported, retried with
 * exponential backoff, and never touches a working certificate.
 *
 * @module
 */
import type * as AcmeClient from "npm:acme-client@5.4.0";
import https from "node:https";
import { errorMessage, fileErrorReason, LbsyncError } from "../core/errors.ts";
import { formatDuration } from "../core/util/duration.ts";
import type { ChallengeServer } from "./challenge_server.ts";
import type { Clock, TimerId } from "../core/util/clock.ts";

/** Settings of an {@link AcmeManager}. */
export interface AcmeSettings {
  /** The ACME directory, e.g. `https://acme-v02.api.letsencrypt.org/directory`. */
  directoryUrl: string;
  /** The account's contact address. */
  email?: string;
  /** PEM certificates to trust for the ACME server's TLS (a private ACME server). */
  caFile?: string;
  /** Where certificates land; the account key is kept in `.lbsync-acme/` inside. */
  certDir: string;
  /** Serves the challenges. */
  challenges: ChallengeServer;
  /** Time and timers. */
  clock: Clock;
  /** Orders started in any hour, at most; default 20. */
  maxOrdersPerHour?: number;
  /** Where outcomes are told. */
  report: AcmeReport;
  /** Obtains a certificate for a host; default: the ACME server at `directoryUrl` (tests fake it). */
  issue?: (host: string) => Promise<IssuedCertificate>;
}

/** A certificate (PEM, with its chain) and its private key (PEM). */
export interface IssuedCertificate {
  certificate: string;
  key: string;
}

/** What an {@link AcmeManager} tells. */
export interface AcmeReport {
  /** A certificate was issued for `host` (its files are in place). */
  issued(host: string, message: string): void;
  /** An order for `host` failed; it is retried after the backoff. */
  failed(host: string, message: string): void;
}

type Acme = typeof AcmeClient;
let acmeModule: Promise<Acme> | undefined;

/**
 * acme-client, loaded when first needed: its dependencies read the environment when they
 * load, which a run without ACME must not need (nor pay for at start-up).
 */
function loadAcme(): Promise<Acme> {
  acmeModule ??= import("npm:acme-client@5.4.0");
  return acmeModule;
}

/** The first retry after a failure; each next failure doubles it, up to an hour. */
const FIRST_BACKOFF_MS = 60_000;
const MAX_BACKOFF_MS = 3_600_000;
/** A certificate's state is looked at again at least this often. */
const RECHECK_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;
/** The longest one request to the ACME server may take. */
const REQUEST_TIMEOUT_MS = 30_000;

interface HostState {
  /** Being looked at or ordered. */
  busy: boolean;
  failures: number;
  retryAt: number;
  timer?: TimerId;
}

/** Orders and renews certificates for the hosts it is told about. */
export class AcmeManager {
  readonly #settings: AcmeSettings;
  readonly #hosts = new Map<string, HostState>();
  readonly #orders: number[] = [];
  #client: Promise<AcmeClient.Client> | undefined;
  #wanted = new Set<string>();
  #stopped = false;
  #busy = 0;
  #idleWaiters: (() => void)[] = [];

  /** A manager; nothing is ordered until {@link AcmeManager.want}. */
  constructor(settings: AcmeSettings) {
    this.#settings = settings;
  }

  /**
   * The hosts that should have certificates now (called after every pass: each host's
   * certificate is looked at again, so a replaced file is seen); others are no longer
   * ordered or renewed.
   */
  want(hosts: Iterable<string>): void {
    this.#wanted = new Set(hosts);
    for (const [host, state] of this.#hosts) {
      if (!this.#wanted.has(host) && !state.busy) {
        this.#settings.clock.clearTimeout(state.timer);
        this.#hosts.delete(host);
      }
    }
    for (const host of this.#wanted) {
      if (!this.#hosts.has(host)) {
        this.#hosts.set(host, { busy: false, failures: 0, retryAt: 0 });
      }
      this.#consider(host);
    }
  }

  /** Stops ordering; orders in flight finish. */
  stop(): void {
    this.#stopped = true;
    for (const state of this.#hosts.values()) this.#settings.clock.clearTimeout(state.timer);
  }

  /** Resolves once no host is being looked at or ordered (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Looks at `host` now, unless that is already under way. */
  #consider(host: string): void {
    const state = this.#hosts.get(host);
    if (!state || state.busy || this.#stopped || !this.#wanted.has(host)) return;
    state.busy = true;
    this.#busy += 1;
    this.#orderWhenDue(host, state).finally(() => {
      state.busy = false;
      this.#busy -= 1;
      if (this.#busy === 0) { for (const resolve of this.#idleWaiters.splice(0)) resolve(); }
    });
  }

  /** Orders `host` while it is due (and allowed), then looks again when it will be. */
  async #orderWhenDue(host: string, state: HostState): Promise<void> {
    while (!this.#stopped && this.#wanted.has(host)) {
      const now = this.#settings.clock.now();
      const due = Math.max(state.retryAt, await this.#renewalDue(host), this.#orderSlot(now));
      if (due > now) {
        this.#later(host, state, due - now);
        return;
      }
      this.#orders.push(now);
      try {
        await this.#order(host);
        state.failures = 0;
        state.retryAt = 0;
      } catch (error) {
        state.failures += 1;
        const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (state.failures - 1));
        state.retryAt = this.#settings.clock.now() + backoff;
        this.#settings.report.failed(
          host,
          `ACME order for ${host} failed: ${errorMessage(error)}; retrying in ${
            formatDuration(backoff)
          } (a certificate in place stays)`,
        );
      }
    }
  }

  #later(host: string, state: HostState, delayMs: number): void {
    this.#settings.clock.clearTimeout(state.timer);
    state.timer = this.#settings.clock.setTimeout(
      () => this.#consider(host),
      Math.min(delayMs, RECHECK_MS),
    );
  }

  /** When an order may start under the hourly bound: now, or when the oldest leaves the hour. */
  #orderSlot(now: number): number {
    while (this.#orders.length > 0 && this.#orders[0] <= now - HOUR_MS) this.#orders.shift();
    const max = this.#settings.maxOrdersPerHour ?? 20;
    return this.#orders.length < max ? 0 : this.#orders[0] + HOUR_MS;
  }

  /** When the certificate in place is two thirds through its lifetime; 0 when there is none. */
  async #renewalDue(host: string): Promise<number> {
    try {
      const pem = await Deno.readTextFile(`${this.#settings.certDir}/${host}.crt`);
      const { notBefore, notAfter } = (await loadAcme()).crypto.readCertificateInfo(pem);
      const start = notBefore.getTime();
      return start + (notAfter.getTime() - start) * 2 / 3;
    } catch {
      return 0; // none, or unreadable: order one
    }
  }

  async #order(host: string): Promise<void> {
    const issue = this.#settings.issue ?? ((h: string) => this.#issue(h));
    const { key, certificate } = await issue(host);
    const dir = this.#settings.certDir;
    // the key first: the pair counts once the certificate is there
    await writeAtomic(`${dir}/${host}.key`, key, 0o600);
    await writeAtomic(`${dir}/${host}.crt`, certificate, 0o644);
    const { notAfter } = (await loadAcme()).crypto.readCertificateInfo(certificate);
    this.#settings.report.issued(
      host,
      `certificate for ${host} issued, valid until ${notAfter.toISOString()}`,
    );
  }

  /** One certificate for `host` from the ACME server, through the HTTP-01 challenge. */
  async #issue(host: string): Promise<IssuedCertificate> {
    const client = await this.#clientOnce();
    const acme = await loadAcme();
    const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] });
    const certificate = await client.auto({
      csr,
      email: this.#settings.email,
      termsOfServiceAgreed: true,
      challengePriority: ["http-01"],
      // the ACME server checks the challenge itself; checking from here first would need
      // this host to resolve the name to the balancer
      skipChallengeVerification: true,
      challengeCreateFn: (_authz, challenge, keyAuthorization) => {
        this.#settings.challenges.set(challenge.token, keyAuthorization);
        return Promise.resolve();
      },
      challengeRemoveFn: (_authz, challenge) => {
        this.#settings.challenges.remove(challenge.token);
        return Promise.resolve();
      },
    });
    return { key: key.toString(), certificate };
  }

  #clientOnce(): Promise<AcmeClient.Client> {
    this.#client ??= this.#makeClient().catch((error) => {
      this.#client = undefined;
      throw error;
    });
    return this.#client;
  }

  async #makeClient(): Promise<AcmeClient.Client> {
    const { caFile, directoryUrl, certDir } = this.#settings;
    const acme = await loadAcme();
    // a request that fails is retried twice within seconds; longer waits are the backoff's,
    // and no request hangs
    // acme-client's own setting, not in axios' types
    const defaults = acme.axios.defaults as { acmeSettings?: Record<string, number> };
    Object.assign(defaults.acmeSettings ?? {}, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
    acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    if (caFile !== undefined) {
      const ca = await Deno.readTextFile(caFile).catch((error) => {
        throw new LbsyncError(
          `Cannot read the ACME server's CA file ${caFile}: ${fileErrorReason(error)}`,
        );
      });
      acme.axios.defaults.httpsAgent = new https.Agent({ ca });
    }
    const accountKey = await readOrCreateAccountKey(`${certDir}/.lbsync-acme`);
    return new acme.Client({ directoryUrl, accountKey });
  }
}

/** The account key in `dir/account.key`, created once (0600 in a 0700 directory). */
async function readOrCreateAccountKey(dir: string): Promise<string> {
  const path = `${dir}/account.key`;
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const key = (await (await loadAcme()).crypto.createPrivateKey()).toString();
  await writeAtomic(path, key, 0o600);
  return key;
}

/** Writes `text` to `path` through a temporary file and a rename, with `mode`. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const slash = path.lastIndexOf("/");
  const temp = `${path.slice(0, slash)}/.${path.slice(slash + 1)}.lbsync-tmp`;
  await Deno.writeTextFile(temp, text, { mode });
  await Deno.chmod(temp, mode);
  await Deno.rename(temp, path);
}
