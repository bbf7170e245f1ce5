/**
 * The log lines of an apply: each command run and what the HAProxy runtime API did, for the
 * one-shot commands and watch alike.
 *
 * @module
 */
import type { ApplyReport } from "../apply/apply.ts";
import type { Logger } from "./log.ts";

/** Commands run and what HAProxy runtime APIs did; a runtime API that failed is a warning. */
export function reportApply(apply: ApplyReport, log: Logger): void {
  for (const t of apply.targets) {
    const r = t.runtime;
    if (r?.applied) log.debug(`runtime API applied ${t.output}`, { commands: r.commands });
    else if (r?.failed) {
      log.warn(`HAProxy runtime API failed for ${t.output}: ${r.reason}; reloaded`);
    } else if (r) log.debug(`reloading for ${t.output}: ${r.reason}`);
  }
  for (const c of [...apply.checks, ...apply.reloads]) {
    log.debug(`ran ${c.command}`, { exit: c.code, ms: c.ms, output: c.output });
  }
}
