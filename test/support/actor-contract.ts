import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Engine, RESULTS_RING } from '../../src/engine.js';
import { RecordWriter } from '../../src/messages/codec.js';
import type { Message } from '../../src/messages/envelope.js';
import type { Kind } from '../../src/messages/schema.js';
import { WriteStatus } from '../../src/runtime/ring/ring-buffer.js';
import { runUntil, testConfig } from './harness.js';

/** What a stage needs to be put through the shared actor contract. */
export interface ContractSubject {
  /** Worker entry of the actor. */
  worker: URL;
  /** Its config slice. */
  config: unknown;
  /** The i-th input record. */
  input(i: number): { kind: Kind; data: unknown };
  /** Checks the outputs for inputs 0..n-1 (in order, each input's outputs once). */
  verify(outputs: Message[], n: number): void;
}

/**
 * The contract every actor passes (after reth's stage test macros): empty input, a full batch,
 * stop in the middle of a stream, and a crash with restart, without loss.
 */
export function actorContract(subject: ContractSubject): void {
  const setup = async (batchMaxRecords = 64) => {
    const config = testConfig({ batchMaxRecords });
    const engine = new Engine(config, {
      pipeline: { rings: { in: 1 << 20, [RESULTS_RING]: 1 << 20 }, stages: [{ name: 'unit', worker: subject.worker, config: subject.config, input: 'in', outputs: { out: RESULTS_RING } }] },
    });
    const outputs: Message[] = [];
    engine.onOutput((m) => outputs.push(m));
    const writer = new RecordWriter(engine.supervisor.ring('in'));
    let seq = 0;
    const feed = (n: number) => {
      for (let i = 0; i < n; i++, seq++) {
        const { kind, data } = subject.input(seq);
        let st = writer.write(kind, seq, 0, performance.now() * 1e6, data);
        while (st === WriteStatus.FULL) st = writer.retry();
        assert.equal(st, WriteStatus.WRITTEN);
      }
    };
    await engine.start();
    return { engine, outputs, feed, fed: () => seq };
  };

  it('contract: empty input starts and stops cleanly', async () => {
    const { engine, outputs } = await setup();
    await engine.stop();
    assert.equal(outputs.length, 0);
    assert.equal(engine.stats().stages.unit!.status, 'stopped');
  });

  it('contract: a full batch is handled in order', async () => {
    const { engine, outputs, feed } = await setup(64);
    feed(64);
    await runUntil(engine, () => outputs.length >= 64, 20_000);
    await engine.stop();
    subject.verify(outputs, 64);
  });

  it('contract: stop in the middle of a stream drains what was accepted', async () => {
    const { engine, outputs, feed } = await setup(16);
    feed(5_000);
    await engine.stop();
    subject.verify(outputs, 5_000);
  });

  it('contract: a crash and restart lose nothing and duplicate nothing', async () => {
    const { engine, outputs, feed } = await setup(32);
    feed(2_000);
    await runUntil(engine, () => outputs.length >= 100, 20_000);
    await engine.supervisor.restartActor('unit');
    feed(2_000);
    await runUntil(engine, () => outputs.length >= 4_000, 20_000);
    await engine.stop();
    subject.verify(outputs, 4_000);
    assert.equal(engine.stats().stages.unit!.restarts, 1);
  });
}
