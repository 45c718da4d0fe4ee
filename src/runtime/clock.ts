/**
 * Monotonic nanoseconds that agree across threads. `performance.now()` is relative to each thread's
 * own `timeOrigin`, so each thread adds the offset from that origin to `process.hrtime` (the same
 * CLOCK_MONOTONIC in every thread), measured once at load. The result is a float64 count of ns,
 * exact to the ns for ~104 days of uptime and to a few ns after that, read without allocating.
 */
function measureOffsetNs(): number {
  // Take the closest of a few samples: the gap between the two reads bounds the error.
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const hr = process.hrtime.bigint();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = Number(hr) - ((a + b) / 2) * 1e6;
    }
  }
  return offset;
}

const OFFSET_NS = measureOffsetNs();

/** Monotonic time in ns, comparable between threads of this process. */
export function monoNs(): number {
  return performance.now() * 1e6 + OFFSET_NS;
}
