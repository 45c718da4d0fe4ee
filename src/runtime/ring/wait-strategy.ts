import { monoNs } from '../clock.js';

/**
 * How a thread waits for a ring to become readable (or writable). Pluggable, as in the LMAX
 * disruptor's `WaitStrategy`: `wait` (the default) spins briefly and then sleeps on the futex with
 * `Atomics.wait`; `busy-spin` never sleeps and burns a core, which on a 2-core machine steals the
 * simulator's CPU, so it is opt-in.
 */
export type WaitStrategyName = 'wait' | 'busy-spin';

/** A probe says whether the awaited condition holds; a sleeper blocks on the futex for up to `ms`. */
export type Probe = () => boolean;
export type Sleeper = (timeoutMs: number) => void;

/** Waits until `probe()` is true or `timeoutMs` passed; returns the final `probe()`. */
export interface WaitStrategy {
  readonly name: WaitStrategyName;
  await(probe: Probe, sleep: Sleeper, timeoutMs: number): boolean;
}

/**
 * Checking the clock costs ~25 ns, so the spin loop looks at it only every this many probes. The
 * clock is {@link monoNs}, not `performance.now()`: the latter boxes every result, and a 50 µs spin
 * checking it every 64 probes left ~1.5 KB of garbage per wait, i.e. per record at 10k msg/s.
 */
const CLOCK_EVERY = 64;

/** Spin for up to `spinMicros`, then sleep on the futex until woken or timed out. */
export class SpinThenWait implements WaitStrategy {
  readonly name = 'wait' as const;
  constructor(readonly spinMicros: number) {}

  await(probe: Probe, sleep: Sleeper, timeoutMs: number): boolean {
    if (probe()) return true;
    if (this.spinMicros > 0) {
      const deadline = monoNs() + this.spinMicros * 1000;
      for (let i = 1; ; i++) {
        if (probe()) return true;
        if (i % CLOCK_EVERY === 0 && monoNs() >= deadline) break;
      }
    }
    if (timeoutMs > 0) sleep(timeoutMs);
    return probe();
  }
}

/** Never sleeps: lowest wake-up latency, a full core per waiting thread. */
export class BusySpin implements WaitStrategy {
  readonly name = 'busy-spin' as const;

  await(probe: Probe, _sleep: Sleeper, timeoutMs: number): boolean {
    if (probe()) return true;
    const deadline = monoNs() + timeoutMs * 1e6;
    for (let i = 1; ; i++) {
      if (probe()) return true;
      if (i % CLOCK_EVERY === 0 && monoNs() >= deadline) return false;
    }
  }
}

/** Builds the named strategy. */
export function createWaitStrategy(name: WaitStrategyName, spinMicros: number): WaitStrategy {
  return name === 'busy-spin' ? new BusySpin() : new SpinThenWait(spinMicros);
}
