/**
 * The managers of one Swarm, read as one source. Every manager answers for the whole
 * cluster, so merging them would list each task once per manager: lbsync reads from one at a
 * time, and when that one fails (its daemon gone, no leader) goes on with the next.
 *
 * @module
 */
import { ConfigError, DockerError, errorMessage } from "../core/errors.ts";
import type { ContainerInfo } from "../core/types.ts";
import type { DockerEngine } from "./docker.ts";

/** Several managers of one Swarm, tried in turn from the one that last answered. */
export class SwarmManagers {
  #current = 0;

  /**
   * `managers` are engines in Swarm mode, each a manager of the same swarm.
   *
   * @throws {ConfigError} without a manager
   */
  constructor(readonly managers: readonly DockerEngine[]) {
    if (managers.length === 0) throw new ConfigError("A Swarm needs at least one manager");
  }

  /** A stable name for the cluster: `swarm:` and the managers' URLs. */
  get url(): string {
    return `swarm:${this.managers.map((m) => m.endpoint.url).join(",")}`;
  }

  /** The manager in use: the one that answered last. */
  get current(): DockerEngine {
    return this.managers[this.#current];
  }

  /** Moves on to the next manager (the one in use failed). */
  next(): DockerEngine {
    this.#current = (this.#current + 1) % this.managers.length;
    return this.current;
  }

  /**
   * The services' tasks, from the manager in use, else from each other in turn; the one that
   * answers is then the manager in use.
   *
   * @throws {DockerError} naming each manager and why it failed, when none answered
   */
  async list(name = ""): Promise<ContainerInfo[]> {
    const failures: string[] = [];
    for (let tried = 0; tried < this.managers.length; tried++) {
      try {
        return await this.current.list(name);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        failures.push(errorMessage(error));
        this.next();
      }
    }
    throw new DockerError(`No Swarm manager answered: ${failures.join("; ")}`);
  }
}
