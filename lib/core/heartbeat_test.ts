import assert from "node:assert/strict";
import { addEvent, type Batch, closesAt, parseHeartbeat } from "./heartbeat.ts";

Deno.test("parseHeartbeat() reads MIN[:MAX]", () => {
  assert.deepEqual(parseHeartbeat("500ms:2s"), { minMs: 500, maxMs: 2000 });
  assert.deepEqual(parseHeartbeat("250ms"), { minMs: 250, maxMs: 1000 });
  assert.deepEqual(parseHeartbeat("0"), { minMs: 0, maxMs: 0 });
  assert.throws(() => parseHeartbeat("2s:1s"), {
    message: 'Cannot parse heartbeat "2s:1s": max must be >= min',
  });
  assert.throws(
    () => parseHeartbeat("fast"),
    /^ConfigError|Cannot parse heartbeat "fast": duration "fast"/,
  );
  assert.throws(() => parseHeartbeat("1s:2s:3s"), {
    message: 'Cannot parse heartbeat "1s:2s:3s": use MIN or MIN:MAX (e.g. 500ms:2s)',
  });
});

/** Replays events at the given times; returns the times at which batches close. */
function replay(
  times: number[],
  min: number,
  max: number,
  until: number,
): { closed: number[]; sizes: number[] } {
  const hb = { minMs: min, maxMs: max };
  const closed: number[] = [];
  const sizes: number[] = [];
  let batch: Batch | undefined;
  let i = 0;
  for (let now = 0; now <= until; now++) {
    while (i < times.length && times[i] === now) {
      batch = addEvent(batch, now);
      i++;
    }
    if (batch && closesAt(batch, hb) <= now) {
      closed.push(now);
      sizes.push(batch.events);
      batch = undefined;
    }
  }
  return { closed, sizes };
}

Deno.test("heartbeat: a quiet gap of MIN closes the batch", () => {
  // t=0 first event; t=100 (gap 100 < 500); t=300 (gap 200 < 500); silence: closes at 300+500
  assert.deepEqual(replay([0, 100, 300], 500, 2000, 5000), { closed: [800], sizes: [3] });
});

Deno.test("heartbeat: a steady stream closes at MAX after the first event", () => {
  // an event every 100 ms from t=100 to t=4900: never a gap of 500
  // t=100 first event; t=2100 = 100+MAX: closes with 21 events (100..2100)
  // t=2200 first of the next; t=4200 = 2200+MAX: closes with 21 (2200..4200)
  // t=4300..4900: 7 events, then silence: closes at 4900+MIN = 5400
  const times = Array.from({ length: 49 }, (_, i) => (i + 1) * 100);
  assert.deepEqual(replay(times, 500, 2000, 10_000), {
    closed: [2100, 4200, 5400],
    sizes: [21, 21, 7],
  });
});

Deno.test("heartbeat: events after a close open a new batch", () => {
  // t=0, closes t=500; t=600 and t=700 (gap 100), closes t=1200; t=3000 alone, closes t=3500
  assert.deepEqual(replay([0, 600, 700, 3000], 500, 2000, 5000), {
    closed: [500, 1200, 3500],
    sizes: [1, 2, 1],
  });
});

Deno.test("heartbeat: MIN 0 closes every batch at once; MAX caps MIN", () => {
  assert.deepEqual(replay([0, 5, 5, 9], 0, 0, 100), { closed: [0, 5, 9], sizes: [1, 2, 1] });
  // t=0 first; t=900 (gap 900 < MIN 1000): min(900+1000, 0+MAX 1500) = 1500, MAX wins
  assert.deepEqual(replay([0, 900], 1000, 1500, 5000), { closed: [1500], sizes: [2] });
});

Deno.test("heartbeat: 10,000 events in 10 s give at most one batch per MAX", () => {
  const times = Array.from({ length: 10_000 }, (_, i) => i);
  const { closed, sizes } = replay(times, 500, 2000, 20_000);
  assert.ok(closed.length <= 6, `${closed.length} batches`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 10_000);
});
