import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type EngineOptions } from '../../src/engine.js';
import type { Message } from '../../src/messages/envelope.js';
import { Kind, type SyntheticTx } from '../../src/messages/schema.js';
import { type ConfigInput, validateConfig } from '../../src/runtime/config.js';

/** A fresh temp directory for one test's files (dead letters, captures). */
export function tempDir(prefix = 'orion-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Test config: quiet logs, fast supervision, dead letters in a temp dir. */
export function testConfig(overrides: ConfigInput = {}) {
  const base: ConfigInput = {
    pipeline: 'synthetic',
    log: { level: (process.env.TEST_LOG as 'warn') ?? 'silent' },
    supervisor: { heartbeatIntervalMs: 20, hangTimeoutMs: 400, metricsIntervalMs: 100, deadLetterPath: join(tempDir(), 'dead-letters.jsonl') },
    submitter: { ledgerPath: join(tempDir(), 'ledger.jsonl') },
  };
  return validateConfig(mergeDeep(base, overrides) as ConfigInput);
}

function mergeDeep(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = mergeDeep(out[k], v);
    return out;
  }
  return b;
}

/**
 * Checks the output of the synthetic pipeline as it arrives: strictly increasing sequence numbers
 * with no gap except the `skipped` ones, every transaction seen by all five stages, its body
 * stamped with its own sequence number.
 */
export class OrderChecker {
  next = 0;
  count = 0;
  readonly errors: string[] = [];
  constructor(private readonly skipped: ReadonlySet<number> = new Set()) {}

  readonly onMessage = (m: Message): void => {
    while (this.skipped.has(this.next)) this.next++;
    if (m.seq !== this.next && this.errors.length < 10) this.errors.push(`expected seq ${this.next}, got ${m.seq}`);
    this.next = m.seq + 1;
    this.count++;
    if (m.kind === Kind.SyntheticTx) {
      const tx = m.data as SyntheticTx;
      if (tx.hops !== 5 && this.errors.length < 10) this.errors.push(`seq ${m.seq} went through ${tx.hops} stages, not 5`);
      const stamp = tx.body.length >= 4 ? new DataView(tx.body.buffer, tx.body.byteOffset).getUint32(0, true) : m.seq >>> 0;
      if (stamp !== m.seq >>> 0 && this.errors.length < 10) this.errors.push(`seq ${m.seq} carries the body of ${stamp}`);
    }
  };
}

/** Starts an engine, resolves once `done()` holds (or rejects on engine failure / timeout). */
export async function runUntil(engine: Engine, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const poll = (async () => {
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; stats: ${JSON.stringify(engine.stats().output)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await Promise.race([poll, engine.failed()]);
}

export type { EngineOptions };
