import { monoNs } from '../../runtime/clock.js';
import type { FaultSpec } from '../../runtime/config.js';

/** Burns `ns` of CPU in a busy loop: the synthetic stand-in for a stage's real work. */
export function burn(ns: number): void {
  if (ns <= 0) return;
  const end = monoNs() + ns; // monoNs, not performance.now(): no heap number per check
  while (monoNs() < end) {
    // spin
  }
}

/**
 * Faults injected on purpose into synthetic stages, to test the supervisor. Each fault's trigger
 * count lives in shared memory (one Int32 per fault, owned by the engine), so "fault once" holds
 * across the restarts the fault itself causes.
 */
export class FaultInjector {
  private readonly bySeq = new Map<number, { index: number; spec: FaultSpec }>();
  private readonly counters: Int32Array | null;

  constructor(stage: string, faults: readonly FaultSpec[], counters: SharedArrayBuffer | undefined) {
    faults.forEach((spec, index) => {
      if (spec.stage === stage) this.bySeq.set(spec.seq, { index, spec });
    });
    this.counters = counters ? new Int32Array(counters) : null;
  }

  /** Throws, exits the thread or hangs if a fault is due for this record. */
  check(seq: number): void {
    if (this.bySeq.size === 0 || !this.counters) return;
    const f = this.bySeq.get(seq);
    if (!f) return;
    const triggered = Atomics.add(this.counters, f.index, 1); // shared across incarnations; atomic so a count is never lost
    if (triggered >= f.spec.times) return;
    switch (f.spec.action) {
      case 'throw':
        throw new Error(`injected fault: throw at seq ${seq}`);
      case 'exit':
        process.exit(1);
        break;
      case 'hang':
        for (;;) {
          // a hang the heartbeat watchdog must catch
        }
    }
  }
}
