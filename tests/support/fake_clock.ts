/** A clock for tests: time moves only when the test says, timers fire in time order. */
import type { Clock, TimerId } from "../../lib/watch/clock.ts";

/** A fake {@link Clock}; {@link FakeClock.advance} moves time and runs the timers due. */
export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  /** Awaited after each timer runs (e.g. until the watch loop is idle again). */
  settle: () => Promise<void> = () => Promise.resolve();

  /** A clock that starts at `start` ms. */
  constructor(start = 1_800_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: TimerId | undefined): void {
    this.#timers.delete(id as number);
  }

  /** Timers waiting, as offsets from now in ms, soonest first. */
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time `ms` forward, running each timer due at its time, in order, settling after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await this.settle();
    for (let fired = 0; fired < 10_000; fired++) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end)
        .sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
      await this.settle();
    }
    this.#now = end;
  }
}
