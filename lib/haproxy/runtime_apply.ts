/**
 * Applying a change of servers to a running HAProxy through its runtime API instead of a
 * reload: add, re-address and re-weight servers, drain removed ones and delete them once
 * their connections are gone. Every step is verified against `show servers state`; anything
 * unexpected makes the caller reload instead.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { errorMessage, RuntimeApiError } from "../core/errors.ts";
import {
  bareAddress,
  parseConfig,
  planServerChanges,
  type ServerChange,
  type ServerLine,
} from "./config_servers.ts";
import { ADMIN_OUT, RuntimeApi, type ServerState } from "./runtime_api.ts";
import type { RuntimeApplier, RuntimeOutcome } from "../apply/runtime.ts";

/** Settings of {@link HaproxyRuntime}. */
export interface RuntimeSettings {
  /** How long a removed server may keep connections before it is deleted anyway, default 10 s. */
  drainTimeoutMs?: number;
  /** Bound of each runtime API command, default 2 s. */
  commandTimeoutMs?: number;
  /** A removed server could not be deleted (it stays in maintenance, without traffic). */
  onError?(message: string): void;
}

const POLL_MS = 100;

/** Runtime API changes for any number of HAProxy sockets; tracks deletions in progress. */
export class HaproxyRuntime implements RuntimeApplier {
  readonly #settings: RuntimeSettings;
  readonly #deleting = new Map<string, Promise<void>>();

  /**
   * A runtime applier; nothing is sent until {@link HaproxyRuntime.apply}.
   *
   * @param settings bounds and the error callback
   */
  constructor(settings: RuntimeSettings = {}) {
    this.#settings = settings;
  }

  /**
   * Brings the HAProxy behind `socket` from the live file `before` to `after` without a
   * reload, when only servers changed. Never throws: a structural change or any failure
   * returns `applied: false` with the reason, and the caller reloads.
   */
  async apply(socket: string, before: string | undefined, after: string): Promise<RuntimeOutcome> {
    if (before === undefined) {
      return { applied: false, commands: 0, reason: "no live file", failed: false };
    }
    const plan = planServerChanges(before, after);
    if (!plan.runtime) return { applied: false, commands: 0, reason: plan.reason, failed: false };
    const api = new RuntimeApi(socket, this.#settings.commandTimeoutMs);
    let commands = 0;
    try {
      const send = async (command: string, success?: RegExp) => {
        commands += 1;
        return await api.expect(command, success);
      };
      await this.#awaitDeletions(socket, plan.changes);
      requireAgreement(await api.serversState(), servers(before), "before the change");
      for (const change of plan.changes) await perform(change, send);
      const state = await api.serversState();
      requireAgreement(state, servers(after), "after the change");
      requireApplied(state, plan.changes);
      for (const change of plan.changes) {
        if (change.kind === "remove") this.#delete(api, change.server);
      }
      return { applied: true, commands, failed: false };
    } catch (error) {
      return { applied: false, commands, reason: errorMessage(error), failed: true };
    }
  }

  /** Resolves when every deletion in progress has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.#deleting.values());
  }

  async #awaitDeletions(socket: string, changes: ServerChange[]): Promise<void> {
    for (const change of changes) {
      await this.#deleting.get(key(socket, change.server));
    }
  }

  #delete(api: RuntimeApi, server: ServerLine): void {
    const id = key(api.path, server);
    if (this.#deleting.has(id)) return;
    const done = drainAndDelete(
      api,
      server,
      this.#settings.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
    )
      .catch((error) => this.#settings.onError?.(errorMessage(error)))
      .finally(() => this.#deleting.delete(id));
    this.#deleting.set(id, done);
  }
}

async function perform(
  change: ServerChange,
  send: (command: string, success?: RegExp) => Promise<string>,
): Promise<void> {
  const s = change.server;
  const id = `${s.backend}/${s.name}`;
  switch (change.kind) {
    case "add": {
      await send(`add server ${id} ${s.address}:${s.port} ${runtimeOptions(s)}`, /registered/i);
      const words = s.options.split(/\s+/);
      if (words.includes("check")) await send(`enable health ${id}`);
      if (words.includes("agent-check")) await send(`enable agent ${id}`);
      await send(`set server ${id} state ready`);
      return;
    }
    case "address":
      await send(`set server ${id} addr ${bareAddress(s.address)} port ${s.port}`);
      return;
    case "weight":
      await send(`set server ${id} weight ${s.weight}`);
      return;
    case "remove":
      await send(`set server ${id} state drain`);
  }
}

/**
 * The options of a server added at runtime: those of its line, plus the connection pooling
 * a configured server has by default (without both, HAProxy 2.6 opens a connection to a
 * dynamic server for every request: measured at half the throughput).
 */
export function runtimeOptions(server: ServerLine): string {
  const words = server.options.split(/\s+/).filter((w) => w !== "");
  for (const [option, value] of POOLING) {
    if (!words.includes(option)) words.push(option, value);
  }
  return words.join(" ");
}

/** The pooling of a configured server (HAProxy's defaults), which dynamic ones lack. */
const POOLING = [["pool-max-conn", "-1"], ["pool-purge-delay", "5s"]] as const;

function servers(text: string): ServerLine[] {
  return [...parseConfig(text).servers.values()].flat();
}

function stateIndex(state: ServerState[]): Map<string, ServerState> {
  return new Map(state.map((s) => [`${s.backend}/${s.name}`, s]));
}

/** Every server of the file runs with its address, port and weight. */
function requireAgreement(state: ServerState[], expected: ServerLine[], when: string): void {
  const running = stateIndex(state);
  for (const server of expected) {
    const id = `${server.backend}/${server.name}`;
    const found = running.get(id);
    const why = !found
      ? "missing"
      : found.address !== bareAddress(server.address) || found.port !== server.port
      ? `at ${found.address}:${found.port}, not ${server.address}:${server.port}`
      : found.weight !== server.weight
      ? `weight ${found.weight}, not ${server.weight}`
      : undefined;
    if (why) {
      throw new RuntimeApiError(`Running HAProxy disagrees with the file ${when}: ${id} ${why}`);
    }
  }
}

/** Added servers are in the pool; removed ones are out of it (or already gone). */
function requireApplied(state: ServerState[], changes: ServerChange[]): void {
  const running = stateIndex(state);
  for (const { kind, server } of changes) {
    const id = `${server.backend}/${server.name}`;
    const found = running.get(id);
    if (kind === "add" && found && (found.admin & ADMIN_OUT) !== 0) {
      throw new RuntimeApiError(`Added server ${id} is not ready (admin state ${found.admin})`);
    }
    if (kind === "remove" && found && (found.admin & ADMIN_OUT) === 0) {
      throw new RuntimeApiError(`Removed server ${id} still takes traffic`);
    }
  }
}

/** Waits for the server's sessions to end (bounded), then puts it in maintenance and deletes it. */
async function drainAndDelete(api: RuntimeApi, server: ServerLine, boundMs: number): Promise<void> {
  const id = `${server.backend}/${server.name}`;
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const sessions = (await api.sessions()).get(id);
    if (sessions === undefined) return; // gone: a reload happened meanwhile
    if (sessions === 0) break;
    await delay(POLL_MS);
  }
  let answer = await api.send(`set server ${id} state maint`);
  if (/no such server/i.test(answer)) return;
  const deleteBy = Math.max(deadline, Date.now() + 5_000);
  while (true) {
    answer = await api.send(`del server ${id}`);
    if (/deleted|no such server/i.test(answer)) return;
    if (Date.now() >= deleteBy) break;
    await delay(POLL_MS);
  }
  throw new RuntimeApiError(
    `Could not delete server ${id} (${
      answer.split("\n")[0]
    }); it stays in maintenance until the next reload`,
  );
}

function key(socket: string, server: ServerLine): string {
  return `${socket}|${server.backend}/${server.name}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
