/**
 * Changing a running balancer's servers without a reload: the interface the apply step
 * uses, which HAProxy's runtime API implements (lib/haproxy/runtime_apply.ts).
 *
 * @module
 */

/** What a runtime change did to one target. */
export interface RuntimeOutcome {
  /** True when the runtime API applied the change: no reload is needed. */
  applied: boolean;
  /** Runtime API commands sent. */
  commands: number;
  /** Why a reload is needed (when not applied). */
  reason?: string;
  /** True when the runtime API was tried and failed or disagreed (a fallback, not a plan). */
  failed: boolean;
}

/** Brings a running balancer from one config to the next without a reload, when it can. */
export interface RuntimeApplier {
  /**
   * Applies the change from the live file `before` to `after` through the balancer's API at
   * `socket`. Never throws: `applied: false` with a reason means the caller reloads.
   */
  apply(socket: string, before: string | undefined, after: string): Promise<RuntimeOutcome>;
}
