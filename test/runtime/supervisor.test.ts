import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Engine, RESULTS_RING } from '../../src/engine.js';
import { RecordWriter } from '../../src/messages/codec.js';
import { Kind } from '../../src/messages/schema.js';
import { OrionError } from '../../src/runtime/errors.js';
import type { PipelineSpec } from '../../src/runtime/supervisor.js';
import { OrderChecker, runUntil, testConfig } from '../support/harness.js';

const bootstrapFail = new URL('../support/bootstrap-fail.worker.js', import.meta.url);
const passThrough = new URL('../../src/actors/synthetic/pass-through.worker.js', import.meta.url);

/** One externally fed stage: main thread → `in` → actor → `results` → main thread. */
function oneStage(worker: URL, config: unknown): PipelineSpec {
  return { rings: { in: 1 << 16, [RESULTS_RING]: 1 << 16 }, stages: [{ name: 'unit', worker, config, input: 'in', outputs: { out: RESULTS_RING } }] };
}

describe('Supervisor', () => {
  it('behavior: across 1,000,000 records and throw, exit, hang and poison faults, nothing is lost, reordered or duplicated', async () => {
    const N = 1_000_000;
    const poison = 800_000;
    const config = testConfig({
      synthetic: {
        rate: 0,
        count: N,
        blockEvery: 1000,
        recordBytes: 64,
        faults: [
          { stage: 'decoder', seq: 100_000, action: 'throw', times: 1 },
          { stage: 'simulator', seq: 300_000, action: 'exit', times: 1 },
          { stage: 'scorer', seq: 500_000, action: 'hang', times: 1 },
          { stage: 'submitter', seq: 650_000, action: 'throw', times: 2 },
          { stage: 'simulator', seq: poison, action: 'throw', times: 1_000_000 },
        ],
      },
      supervisor: { poisonThreshold: 3, restartBudget: 20 },
    });
    const engine = new Engine(config);
    const checker = new OrderChecker(new Set([poison]));
    engine.onOutput(checker.onMessage);
    const restarts: string[] = [];
    engine.supervisor.on('restart', (e: { stage: string }) => restarts.push(e.stage));
    await engine.start();
    await runUntil(engine, () => checker.count >= N - 1, 120_000);
    await engine.stop();

    assert.deepEqual(checker.errors, []);
    assert.equal(checker.count, N - 1, 'every record but the poison one arrives exactly once');
    const stats = engine.stats();
    assert.equal(stats.output.records, N - 1);
    assert.equal(stats.stages.decoder!.restarts, 1);
    // One exit, then the poison record: possibly one death inside a multi-record batch (which only
    // isolates it), then three deaths on it alone before it is dead-lettered.
    assert.ok([4, 5].includes(stats.stages.simulator!.restarts), `simulator restarts: ${stats.stages.simulator!.restarts}`);
    assert.equal(stats.stages.scorer!.restarts, 1, 'the hung scorer was terminated and restarted');
    assert.equal(stats.stages.submitter!.restarts, 2);
    assert.equal(stats.stages.simulator!.deadLetters, 1);
    const letters = readFileSync(config.supervisor.deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(letters.length, 1);
    assert.equal(letters[0].stage, 'simulator');
    assert.equal(letters[0].seq, poison);
    assert.equal(letters[0].kind, 'SyntheticTx');
    assert.equal(letters[0].deaths, 3);
    assert.match(letters[0].error, /injected fault: throw at seq 800000/);
    assert.ok(Buffer.from(letters[0].record, 'base64').length > 32, 'the record bytes are kept');
    for (const s of Object.values(stats.stages)) assert.equal(s.status, 'stopped');
  });

  it('behavior: the restart budget stops the engine with a clear error', async () => {
    const config = testConfig({
      synthetic: { rate: 0, count: 100, faults: [{ stage: 'decoder', seq: 10, action: 'throw', times: 1_000_000 }] },
      supervisor: { poisonThreshold: 1000, restartBudget: 3, restartWindowMs: 60_000, restartBackoffInitialMs: 1, restartBackoffMaxMs: 4 },
    });
    const engine = new Engine(config);
    const restarts: number[] = [];
    engine.supervisor.on('restart', (e: { restarts: number }) => restarts.push(e.restarts));
    await engine.start();
    const err = await engine.failed().catch((e: unknown) => e);
    assert.ok(err instanceof OrionError);
    assert.equal(err.code, 'ORION_ERR_RESTART_BUDGET');
    assert.equal(err.fatal, true);
    assert.match(err.message, /actor decoder exceeded its restart budget \(3 restarts in 60000 ms\)/);
    assert.match(err.message, /injected fault: throw at seq 10/);
    assert.deepEqual(restarts, [1, 2, 3]);
    assert.equal(engine.stats().stages.decoder!.status, 'failed');
    await engine.kill();
  });

  it('error: an actor that fails during bootstrap stops the engine instead of being respawned', async () => {
    const engine = new Engine(testConfig(), { pipeline: oneStage(bootstrapFail, {}) });
    let restarts = 0;
    engine.supervisor.on('restart', () => restarts++);
    const err = await engine.start().catch((e: unknown) => e);
    assert.ok(err instanceof OrionError);
    assert.equal(err.code, 'ORION_ERR_ACTOR_BOOTSTRAP');
    assert.match(err.message, /actor unit failed during bootstrap/);
    assert.match(err.message, /cannot open the thing this actor needs/);
    assert.equal(restarts, 0);
  });

  it('error: an actor that crashes and then fails its restart bootstrap stops the engine', async () => {
    const engine = new Engine(testConfig(), { pipeline: oneStage(bootstrapFail, { afterRestart: true }) });
    let restarts = 0;
    engine.supervisor.on('restart', () => restarts++);
    await engine.start();
    const w = new RecordWriter(engine.supervisor.ring('in'));
    w.write(Kind.BlockEvent, 0, 0, 0, { number: 1, hash: '0x', parentHash: '0x', timestamp: 0, baseFeePerGas: null });
    const err = await engine.failed().catch((e: unknown) => e);
    assert.ok(err instanceof OrionError);
    assert.equal(err.code, 'ORION_ERR_ACTOR_BOOTSTRAP');
    assert.equal(restarts, 1, 'restarted once after the crash, then not again');
  });

  it('behavior: graceful stop drains every stage and loses nothing', async () => {
    const engine = new Engine(testConfig({ synthetic: { rate: 20_000, count: 0, blockEvery: 100 } }));
    const checker = new OrderChecker();
    engine.onOutput(checker.onMessage);
    await engine.start();
    await runUntil(engine, () => checker.count >= 5_000);
    await engine.stop();
    const stats = engine.stats();
    assert.deepEqual(checker.errors, []);
    assert.ok(stats.stages.ingest!.records >= 5_000);
    assert.equal(checker.count, stats.stages.ingest!.records, 'everything the source emitted reached the end');
    for (const name of ['decoder', 'simulator', 'scorer', 'submitter']) {
      assert.equal(stats.stages[name]!.records, stats.stages.ingest!.records, `${name} handled every record`);
      assert.equal(stats.stages[name]!.ring!.depthBytes, 0, `${name}'s input ring is empty`);
    }
  });

  it('behavior: envelope handlers see every output record once, in order, alongside decoded ones', async () => {
    const engine = new Engine(testConfig({ synthetic: { rate: 20_000, count: 3_000, blockEvery: 100 } }));
    const ids: number[] = [];
    let decoded = 0;
    engine.onEnvelope((e) => ids.push(e.seq));
    engine.onOutput((m) => {
      if (m.kind === Kind.SyntheticTx) assert.ok((m.data as { body: Uint8Array }).body instanceof Uint8Array);
      decoded++;
    });
    await engine.start();
    await runUntil(engine, () => ids.length >= 3_000);
    await engine.stop();
    assert.equal(ids.length, 3_000);
    assert.equal(decoded, 3_000);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order');
    assert.equal(new Set(ids).size, ids.length, 'once each');
  });

  it('behavior: an actor restarted on request redelivers its uncommitted input, deduplicated downstream', async () => {
    const engine = new Engine(testConfig({ synthetic: { rate: 50_000, count: 40_000, blockEvery: 0, stages: { simulator: { workNs: 2000 } } } }));
    const checker = new OrderChecker();
    engine.onOutput(checker.onMessage);
    await engine.start();
    await runUntil(engine, () => checker.count >= 5_000);
    await engine.supervisor.restartActor('simulator');
    await runUntil(engine, () => checker.count >= 40_000);
    await engine.stop();
    assert.deepEqual(checker.errors, []);
    assert.equal(checker.count, 40_000);
    assert.equal(engine.stats().stages.simulator!.restarts, 1);
  });

  it('args: unknown actor and undeclared rings are refused', async () => {
    const engine = new Engine(testConfig());
    await assert.rejects(engine.supervisor.restartActor('nope'), /no actor named "nope"/);
    assert.throws(
      () => new Engine(testConfig(), { pipeline: { rings: {}, stages: [{ name: 'x', worker: passThrough, config: {}, input: 'missing', outputs: {} }] } }),
      /stage x: input ring "missing" is not declared/,
    );
    assert.throws(
      () =>
        new Engine(testConfig(), {
          pipeline: {
            rings: { a: 1024, results: 1024 },
            stages: [
              { name: 'p1', worker: passThrough, config: {}, outputs: { out: 'a' } },
              { name: 'p2', worker: passThrough, config: {}, outputs: { out: 'a' } },
            ],
          },
        }),
      /ring "a" has two producers/,
    );
  });
});
