/**
 * One bad service never blocks the others. When the balancer refuses a candidate (its check,
 * its reload, or the reload's confirmation), the services that changed since the last good
 * apply are the suspects: each is held at its last good form (its containers as they were
 * then) while the others are tried, narrowing by halves to the services responsible. Those are
 * quarantined with the balancer's own message, and everything else applies. A quarantined
 * service stays held until it changes; then it is tried again.
 *
 * The rules over models are pure; {@link narrowFailures} takes the trial as a function.
 *
 * @module
 */
import type { ContainerInfo, Model, ModelResult, SkippedContainer } from "../core/types.ts";
import type { ApplyReport } from "../apply/apply.ts";
import { ApplyError, errorMessage } from "../core/errors.ts";

/** What was applied last with success: the containers and the model built from them. */
export interface GoodState {
  containers: ContainerInfo[];
  model: Model;
}

/** A service the balancer refused, held at its last good form. */
export interface Quarantined {
  /** The service's name. */
  service: string;
  /** The balancer's message for the candidate that held only this change. */
  reason: string;
  /** The refused form, so that a change of it is tried again. */
  fingerprint: string;
}

/**
 * The form of service `name` in `model`: the service (servers included) and the certificate
 * of each of its hosts (a renewed one is a change); `""` when it has none.
 */
export function serviceFingerprint(model: Model, name: string): string {
  const service = model.services.find((s) => s.name === name);
  if (!service) return "";
  const certificates = model.httpListeners.flatMap((l) => l.virtualHosts)
    .filter((v) => v.routes.some((r) => r.service === name))
    .map((v) => [v.host, v.tls?.version ?? ""]);
  return JSON.stringify([service, certificates]);
}

/**
 * Services backed by containers whose form differs between `current` and `previous`: new,
 * changed or gone. Services of static servers only are not suspects (the config file's own
 * validation and the admin API answer for them).
 */
export function changedServices(
  current: Model,
  previous: Model | undefined,
  skipped: readonly SkippedContainer[] = [],
): string[] {
  const fromContainers = (model: Model | undefined) =>
    (model?.services ?? []).filter((s) => s.servers.some((server) => !server.static))
      .map((s) => s.name);
  const names = new Set([
    ...fromContainers(current),
    ...fromContainers(previous),
    ...skipped.map((s) => s.service).filter((s) => s !== ""),
  ]);
  return [...names].filter((name) =>
    previous === undefined ||
    serviceFingerprint(current, name) !== serviceFingerprint(previous, name)
  ).sort();
}

/**
 * The containers with each service of `held` as it was in `good`: its containers now are left
 * out and its containers then are put back (without `good`, a held service is left out).
 */
export function holdServices(
  containers: readonly ContainerInfo[],
  current: { model: Model; skipped: readonly SkippedContainer[] },
  good: GoodState | undefined,
  held: ReadonlySet<string>,
): ContainerInfo[] {
  if (held.size === 0) return [...containers];
  const idsOf = (model: Model, skipped: readonly SkippedContainer[]) =>
    new Set([
      ...model.services.filter((s) => held.has(s.name))
        .flatMap((s) =>
          s.servers.filter((server) => !server.static).map((server) => server.containerId)
        ),
      ...skipped.filter((s) => held.has(s.service)).map((s) => s.id),
    ]);
  const now = idsOf(current.model, current.skipped);
  const kept = containers.filter((c) => !now.has(c.id));
  if (!good) return kept;
  const then = idsOf(good.model, []);
  const present = new Set(kept.map((c) => c.id));
  return [...kept, ...good.containers.filter((c) => then.has(c.id) && !present.has(c.id))];
}

/**
 * Finds the suspects whose change makes `attempt` fail. `attempt(included)` tries the
 * candidate with the suspects of `included` in their new form and every other suspect held,
 * resolving with the failure's message or `undefined` on success (a success is applied: the
 * included ones are then in force). Suspects are added by halves; one that fails alone is
 * bad, with its message. At most about 2 k log2 n attempts for k bad services of n. With
 * `known`, all of them together are known to fail with that message: the first try is skipped.
 *
 * @example
 * ```ts
 * import { narrowFailures } from "./quarantine.ts";
 * const bad = await narrowFailures(["a", "b", "c", "d"], (included) =>
 *   Promise.resolve(included.includes("c") ? "c is refused" : undefined));
 * console.log([...bad]); // [["c", "c is refused"]]
 * ```
 */
export async function narrowFailures(
  suspects: readonly string[],
  attempt: (included: string[]) => Promise<string | undefined>,
  known?: string,
): Promise<Map<string, string>> {
  const bad = new Map<string, string>();
  const good: string[] = [];
  const queue: string[][] = [];
  if (known !== undefined && suspects.length === 1) bad.set(suspects[0], known);
  else if (known !== undefined) {
    const half = Math.ceil(suspects.length / 2);
    queue.push(suspects.slice(0, half), suspects.slice(half));
  } else if (suspects.length > 0) queue.push([...suspects]);
  while (queue.length > 0) {
    const group = queue.shift()!;
    const failure = await attempt([...good, ...group]);
    if (failure === undefined) good.push(...group);
    else if (group.length === 1) bad.set(group[0], failure);
    else {
      const half = Math.ceil(group.length / 2);
      queue.unshift(group.slice(0, half), group.slice(half));
    }
  }
  return bad;
}

/** What {@link applyOrQuarantine} needs: the model of a list of containers, and the apply. */
export interface QuarantineIo {
  /** The model of `containers`, as the pass builds it. */
  build(containers: ContainerInfo[]): Promise<ModelResult>;
  /**
   * Renders and applies `result`; throws {@link ApplyError} when the balancer refuses it.
   * With `verify`, a result that changes nothing is checked all the same.
   */
  apply(result: ModelResult, verify: boolean): Promise<ApplyReport>;
}

/** The quarantine's memory across passes: the last good apply, and the services held. */
export interface QuarantineState {
  good?: GoodState;
  readonly held: Map<string, Quarantined>;
}

/** What was applied: the model in force, its report, and the services held out of it. */
export interface QuarantineOutcome {
  result: ModelResult;
  report: ApplyReport;
  /** Services held at their last good form, newly or still. */
  quarantined: Quarantined[];
  /** Services quarantined in this pass. */
  added: Quarantined[];
}

/**
 * Applies `first` (the model of `containers`); when the balancer refuses it, narrows the
 * refusal to the services responsible, holds them, and applies the rest. Quarantined services
 * still in the form that was refused stay held without a try; a changed one is tried again.
 *
 * @throws {ApplyError} when the refusal is not the doing of any changed service (the live
 *   config then stays as it was), and any error of a write
 */
export async function applyOrQuarantine(
  containers: readonly ContainerInfo[],
  first: ModelResult,
  state: QuarantineState,
  io: QuarantineIo,
): Promise<QuarantineOutcome> {
  for (const [name, q] of state.held) {
    if (serviceFingerprint(first.model, name) !== q.fingerprint) state.held.delete(name);
  }
  const held = new Set(state.held.keys());
  const attempt = async (holding: ReadonlySet<string>, verify = false) => {
    const list = holdServices(containers, first, state.good, holding);
    const result = holding.size === 0 ? first : await io.build(list);
    const report = await io.apply(result, verify);
    state.good = { containers: list, model: result.model };
    return { result, report };
  };
  const refusal = (error: unknown) => error instanceof ApplyError && error.step !== "write";
  let applied: { result: ModelResult; report: ApplyReport } | undefined;
  const added: Quarantined[] = [];
  try {
    applied = await attempt(held);
  } catch (error) {
    if (!refusal(error)) throw error;
    const suspects = changedServices(first.model, state.good?.model, first.skipped)
      .filter((name) => !held.has(name));
    // the first try holds every suspect: when that gives the live config again, the balancer
    // is asked whether it still takes it (else a refusal of anything would blame the changes)
    const tryWith = async (included: string[]) => {
      try {
        const holding = new Set([...held, ...suspects.filter((s) => !included.includes(s))]);
        applied = await attempt(holding, included.length === 0);
        return undefined;
      } catch (e) {
        if (!refusal(e)) throw e;
        return errorMessage(e);
      }
    };
    if (suspects.length === 0 || (await tryWith([])) !== undefined) throw error;
    for (const [service, reason] of await narrowFailures(suspects, tryWith, errorMessage(error))) {
      const q = { service, reason, fingerprint: serviceFingerprint(first.model, service) };
      state.held.set(service, q);
      added.push(q);
    }
  }
  const quarantined = [...state.held.values()];
  return {
    ...applied!,
    result: markQuarantined(applied!.result, first, quarantined),
    quarantined,
    added,
  };
}

/** `result` with the containers of quarantined services in `first` that it leaves out. */
function markQuarantined(
  result: ModelResult,
  first: ModelResult,
  quarantined: readonly Quarantined[],
): ModelResult {
  if (quarantined.length === 0) return result;
  const served = new Set(
    result.model.services.flatMap((s) => s.servers.map((server) => server.containerId)),
  );
  const extra: SkippedContainer[] = [];
  for (const q of quarantined) {
    const service = first.model.services.find((s) => s.name === q.service);
    for (const server of service?.servers ?? []) {
      if (server.static || served.has(server.containerId)) continue;
      extra.push({
        id: server.containerId,
        name: server.name,
        engine: server.engine,
        service: q.service,
        code: "quarantined",
        reason: `quarantined: the balancer refused service ${q.service}: ${q.reason}`,
      });
    }
  }
  const skipped = [...result.skipped, ...extra].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  return { ...result, skipped };
}
