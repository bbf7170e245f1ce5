/**
 * Rollover retirement in watch mode: containers a rollover took out of the pool are stopped
 * through the Docker API once their grace period ends (`--retire-after`); one that comes
 * back into the pool before then is spared.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { type Clock, systemClock, type TimerId } from "./clock.ts";
import type { EngineSource } from "./engine_source.ts";
import type { ContainerInfo, ModelResult } from "../core/types.ts";

/**
 * How long nginx may go on using a DNS answer: `valid=1s`, counted in whole seconds, is up to
 * 2 s; one more for requests already under way.
 */
export const NGINX_DNS_CACHE_MS = 3_000;

/**
 * How long after a rollover retires a container it is stopped: `retireAfterMs`, and with
 * `--nginx-dns` not before nginx's answers naming it have expired; `undefined`: never.
 */
export function retireDelay(
  options: { retireAfterMs?: number; nginxDns?: string },
): number | undefined {
  const grace = options.retireAfterMs;
  if (grace === undefined) return undefined;
  return options.nginxDns ? Math.max(grace, NGINX_DNS_CACHE_MS) : grace;
}

/** Timers that stop retired containers; `cancelAll()` when the watch ends. */
export class Retirements {
  readonly #timers = new Map<string, TimerId>();

  /**
   * @param report where a stop or its failure is told
   * @param clock the timers' clock
   */
  constructor(
    private readonly report: { info?(message: string): void; error?(message: string): void },
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Follows a pass: each container `result` retired gets a stop after `delayMs` (on the
   * engine it was listed from), and one no longer retired keeps running.
   */
  schedule(
    result: ModelResult,
    containers: ContainerInfo[],
    engines: EngineSource[],
    delayMs: number,
  ): void {
    const retired = new Set(
      result.skipped.filter((s) => s.code === "retired").map((s) => s.id),
    );
    for (const [id, timer] of this.#timers) {
      if (!retired.has(id)) {
        this.clock.clearTimeout(timer);
        this.#timers.delete(id);
      }
    }
    for (const id of retired) {
      if (this.#timers.has(id)) continue;
      const container = containers.find((c) => c.id === id);
      const engine = engines.find((e) => e.url === container?.engine) ?? engines[0];
      if (!container || !engine || container.state !== "running") continue;
      this.#timers.set(id, this.clock.setTimeout(() => this.#stop(engine, container), delayMs));
    }
  }

  /** Cancels every stop not yet made. */
  cancelAll(): void {
    for (const timer of this.#timers.values()) this.clock.clearTimeout(timer);
    this.#timers.clear();
  }

  async #stop(engine: EngineSource, container: ContainerInfo): Promise<void> {
    this.#timers.delete(container.id);
    try {
      await engine.stop(container.id);
      this.report.info?.(`stopped ${container.name}, retired by rollover`);
    } catch (error) {
      this.report.error?.(errorMessage(error));
    }
  }
}
