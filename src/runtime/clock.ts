/**
 * Monotonic nanoseconds that agree across threads: `process.hrtime()` reads CLOCK_MONOTONIC, the
 * same clock in every thread of the process, as a float64 count of ns (exact to the ns for ~104 days
 * of uptime, to a few ns after that).
 *
 * Why not `performance.now()`: it is relative to each thread's own `timeOrigin`, and every call
 * returns a freshly boxed heap number (16 bytes), which in spin loops and per-record stamps was a
 * large share of a stage's garbage. `process.hrtime()` fills a shared typed array and returns a
 * two-element array that TurboFan removes (escape analysis) once this function is inlined into its
 * caller, so a hot caller reads the clock without allocating.
 */
const hrtime = process.hrtime;

/** Monotonic time in ns, comparable between threads of this process. Allocates nothing once inlined. */
export function monoNs(): number {
  const t = hrtime();
  return t[0]! * 1e9 + t[1]!;
}
