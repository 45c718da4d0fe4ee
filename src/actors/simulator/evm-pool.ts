import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { BlockEvent } from '../../messages/schema.js';
import type { EvmEnv, EvmTask, SimulateOutcome, SimulateTask, VerifyOutcome, VerifyTask } from './evm-task.js';

/** Threads for `threads: 0`: cores − 1, at least 1 (the stage threads need the rest). */
export function defaultEvmThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * A piscina pool of EVM workers ({@link ./evm-task.ts}). Tasks are not queued inside piscina
 * beyond its threads: callers keep their own queue, so they can shed by value and age before a
 * task starts.
 */
export class EvmPool {
  private readonly pool: Piscina;
  readonly threads: number;

  constructor(threads: number) {
    this.threads = threads > 0 ? threads : defaultEvmThreads();
    this.pool = new Piscina({
      filename: new URL('./evm-task.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
    });
  }

  simulate(task: SimulateTask): Promise<SimulateOutcome> {
    return this.pool.run(task satisfies EvmTask) as Promise<SimulateOutcome>;
  }

  verify(task: VerifyTask): Promise<VerifyOutcome> {
    return this.pool.run(task satisfies EvmTask) as Promise<VerifyOutcome>;
  }

  /**
   * Moves the threads to `head` ahead of the work that will need it: one warm task per thread
   * (piscina hands each to a free thread). The work that needs the head would move the thread
   * anyway, so a warm task queued behind it costs a cache check. Never rejects.
   */
  warm(env: EvmEnv, head: BlockEvent): void {
    for (let i = 0; i < this.threads; i++) this.pool.run({ op: 'warm', env, head } satisfies EvmTask).catch(() => {});
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
