/**
 * Readiness: a container whose service has `lbsync.health` enters the pool only after
 * `GET http://ADDRESS:PORT/PATH` answers 2xx (tcp services: a TCP connect succeeds). Once
 * ready, a container stays ready while it is a candidate; Docker health keeps watching it.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { buildModel } from "../core/model/model.ts";
import { type Clock, systemClock } from "./clock.ts";
import type {
  ContainerInfo,
  Model,
  ModelOptions,
  ModelResult,
  Server,
  Service,
} from "../core/types.ts";

/** The outcome of one probe. */
export interface ProbeResult {
  /** True when the server answered as it should. */
  ready: boolean;
  /** Why not, e.g. `GET http://10.0.0.5:8080/health: status 503`. */
  reason: string;
}

/** Probes one server of one service; bounded by `timeoutMs`. */
export type Prober = (service: Service, server: Server, timeoutMs: number) => Promise<ProbeResult>;

/** The real probes: HTTP GET for http services, TCP connect for tcp services. */
export const networkProber: Prober = async (
  service: Service,
  server: Server,
  timeoutMs: number,
): Promise<ProbeResult> => {
  // tcp services, and http services whose servers speak TLS (their certificates are often
  // self-signed, which a probe could not verify): a TCP connect
  if (service.mode === "tcp" || service.backendTls) {
    const what = `TCP connect to ${server.endpoint}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const conn = await Promise.race([
        Deno.connect({ hostname: server.address, port: server.port }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
        }),
      ]);
      conn.close();
      return { ready: true, reason: "" };
    } catch (error) {
      return { ready: false, reason: `${what}: ${describeNetError(error)}` };
    } finally {
      clearTimeout(timer);
    }
  }
  const url = `http://${server.endpoint}${service.health}`;
  try {
    const response = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { "user-agent": "lbsync-readiness" },
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ready: ok, reason: ok ? "" : `GET ${url}: status ${response.status}` };
  } catch (error) {
    return { ready: false, reason: `GET ${url}: ${describeNetError(error)}` };
  }
};

function describeNetError(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  if (/timed out|timeout|aborted/i.test(text) || (error as Error)?.name === "TimeoutError") {
    return "timed out";
  }
  if (/refused/i.test(text)) return "connection refused";
  if (/unreachable|no route/i.test(text)) return "host unreachable";
  return text.split("\n")[0];
}

/** Settings of a {@link ReadinessGate}. */
export interface ReadinessSettings {
  /** How long one probe may take, default 2 s. */
  probeTimeoutMs?: number;
}

/**
 * Remembers which containers passed their probe and probes the rest. Containers of services
 * without a health path need no probe.
 */
export class ReadinessGate {
  readonly #ready = new Set<string>();
  readonly #prober: Prober;
  readonly #timeoutMs: number;

  /** A gate with the real network probes, or `prober` in tests. */
  constructor(settings: ReadinessSettings = {}, prober: Prober = networkProber) {
    this.#prober = prober;
    this.#timeoutMs = settings.probeTimeoutMs ?? DEFAULTS.probeTimeoutMs;
  }

  /**
   * Probes every server of `result` that needs it and has not passed yet, in parallel.
   * Returns the ones that are not ready, by container id, with the reason.
   */
  async check(
    result: ModelResult,
    probeable: (containerId: string) => boolean = () => true,
  ): Promise<Map<string, string>> {
    const present = new Set<string>();
    const pending: Promise<void>[] = [];
    const notReady = new Map<string, string>();
    // retired by rollover means ready before: keep remembering it
    for (const s of result.skipped) if (s.code === "retired") present.add(s.id);
    for (const service of result.model.services) {
      const needsProbe = service.health !== "";
      for (const server of service.servers) {
        present.add(server.containerId);
        if (!needsProbe || server.static || this.#ready.has(server.containerId)) continue;
        if (!probeable(server.containerId)) continue;
        pending.push(
          this.#prober(service, server, this.#timeoutMs).then((r) => {
            if (r.ready) this.#ready.add(server.containerId);
            else notReady.set(server.containerId, r.reason);
          }),
        );
      }
    }
    await Promise.all(pending);
    // a container that left is probed again if it comes back (e.g. restarted)
    for (const id of this.#ready) if (!present.has(id)) this.#ready.delete(id);
    return notReady;
  }
}

/** How {@link buildReadyModel} treats readiness. */
export interface ReadyModelSettings {
  /** The probes, and what they found of the containers before. */
  gate: ReadinessGate;
  /** Up to this long (ms) for new containers to pass their probes (default 0: no wait). */
  waitMs?: number;
  /** Ids of containers read from files: lbsync may not reach them, so they are not probed. */
  fromFiles?: ReadonlySet<string>;
  /** Which listen ports other processes hold (default none). */
  busyPorts?: BusyPortProbe;
  /** Time and timers for the wait (default the system's). */
  clock?: Clock;
}

/**
 * Builds the model with readiness: containers that need a probe and fail it are left out
 * with the reason. Waits up to `waitMs` (probing every 250 ms) for new containers to pass.
 * Only containers listed from an engine are probed: `--from-file` snapshots describe
 * containers lbsync may not reach. Services asking for a port another process holds are
 * refused.
 */
export async function buildReadyModel(
  containers: ContainerInfo[],
  options: ModelOptions,
  readiness: ReadyModelSettings,
): Promise<ModelResult> {
  const { gate, waitMs = 0, fromFiles = new Set(), busyPorts = () => new Map() } = readiness;
  const clock = readiness.clock ?? systemClock;
  const first = buildModel(containers, options);
  const probeable = (id: string) => !fromFiles.has(id);
  let notReady = await gate.check(first, probeable);
  const deadline = clock.now() + waitMs;
  while (notReady.size > 0 && clock.now() < deadline) {
    const ms = Math.min(250, Math.max(0, deadline - clock.now()));
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    notReady = await gate.check(first, probeable);
  }
  const ready = notReady.size === 0 ? first : buildModel(containers, { ...options, notReady });
  const busy = busyPorts(ready.model);
  return busy.size === 0
    ? ready
    : buildModel(containers, { ...options, notReady, busyPorts: busy });
}

/**
 * The ports of a model that another process on this host holds, with a description (the
 * I/O shell probes them: see `localPortProbe`); services asking for them are refused.
 */
export type BusyPortProbe = (model: Model) => ReadonlyMap<number, string>;
