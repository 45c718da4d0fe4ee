import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SCHEMA_HASH } from '../../src/messages/schema.js';
import type { ActorReport, ActorWorkerData } from '../../src/runtime/actor.js';
import { ActorState, ControlBlock, STATE, StopMode } from '../../src/runtime/control-block.js';
import { RingBuffer } from '../../src/runtime/ring/ring-buffer.js';

const trivialActor = new URL('../support/trivial-actor.worker.js', import.meta.url);

type Posted = ActorReport | { t: 'test:factory' };

function workerData(schemaHash: string, control: ControlBlock): ActorWorkerData {
  return {
    name: 'unit',
    schemaHash,
    config: {},
    runtime: { wait: { strategy: 'wait', spinMicros: 50 }, batchMaxRecords: 16, heartbeatIntervalMs: 50, metricsIntervalMs: 1000, logLevel: 'silent' },
    control: control.sab,
    input: RingBuffer.create(1024).sab,
    outputs: {},
    shared: {},
    restarts: 0,
    carefulUntil: -1,
  };
}

const started: Worker[] = [];
after(async () => {
  await Promise.all(started.map((w) => w.terminate()));
});

/** Starts the trivial actor's thread and records what it posts, the errors it raises and its exit code. */
function startActor(schemaHash: string) {
  const control = new ControlBlock();
  const worker = new Worker(trivialActor, { workerData: workerData(schemaHash, control) });
  started.push(worker);
  const posted: Posted[] = [];
  const errors: Error[] = [];
  let exitCode: number | null = null;
  worker.on('message', (m: Posted) => posted.push(m));
  worker.on('error', (e) => errors.push(e));
  const exited = new Promise<number>((res) =>
    worker.once('exit', (code) => {
      exitCode = code;
      res(code);
    }),
  );
  /** Resolves once `done()` holds; rejects after `ms` or if the thread exits first. */
  const until = async (what: string, done: () => boolean, ms = 10_000): Promise<void> => {
    const deadline = performance.now() + ms;
    while (!done()) {
      if (exitCode !== null) throw new Error(`thread exited (code ${exitCode}) before ${what}; posted ${JSON.stringify(posted)}`);
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; posted ${JSON.stringify(posted)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const exit = async (ms = 10_000): Promise<number> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`thread did not exit within ${ms} ms; posted ${JSON.stringify(posted)}`)), ms);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { worker, control, posted, errors, until, exit };
}

const errorsOf = (posted: Posted[]) => posted.filter((m): m is Extract<ActorReport, { t: 'error' }> => m.t === 'error');

describe('hostActor', () => {
  it('default', async () => {
    const a = startActor(SCHEMA_HASH);
    await a.until('ready', () => a.posted.some((m) => m.t === 'ready'));
    assert.equal(Atomics.load(a.control.i32, STATE), ActorState.READY);
    assert.ok(a.posted.some((m) => m.t === 'test:factory'), 'the actor was built');
    assert.deepEqual(errorsOf(a.posted), []);
    const beat = a.control.heartbeat();
    await a.until('a heartbeat', () => a.control.heartbeat() !== beat);

    a.control.requestStop(StopMode.NOW);
    assert.equal(await a.exit(), 0);
    assert.equal(Atomics.load(a.control.i32, STATE), ActorState.STOPPED);
    const stopped = a.posted.find((m) => m.t === 'stopped');
    assert.ok(stopped, `posted ${JSON.stringify(a.posted)}`);
    assert.equal(stopped.snapshot.records, 0);
    assert.deepEqual(a.errors, []);
  });

  it('error: a thread built with another schema refuses to start', async () => {
    const wrong = 'f'.repeat(64);
    assert.notEqual(wrong, SCHEMA_HASH);
    const a = startActor(wrong);
    const code = await a.exit();
    assert.notEqual(code, 0, 'the thread exits non-zero');
    assert.equal(a.posted.some((m) => m.t === 'ready'), false, 'never READY');
    assert.equal(a.posted.some((m) => m.t === 'test:factory'), false, 'the actor is never built');
    assert.equal(Atomics.load(a.control.i32, STATE), ActorState.STARTING);
    const first = errorsOf(a.posted)[0];
    assert.ok(first, `posted ${JSON.stringify(a.posted)}`);
    assert.deepEqual({ t: first.t, phase: first.phase, code: first.code, fatal: first.fatal }, { t: 'error', phase: 'bootstrap', code: 'ORION_ERR_SCHEMA_MISMATCH', fatal: true });
    assert.match(first.message, /^actor unit was built with another message schema\n/);
    assert.ok(first.message.includes(wrong.slice(0, 12)) && first.message.includes(SCHEMA_HASH.slice(0, 12)), 'both hashes are named');
    assert.equal(a.errors.length, 1, 'the thread dies of the error');
    assert.match(a.errors[0]!.message, /another message schema/);
  });

  it('error: an empty schema hash is a mismatch too', async () => {
    const a = startActor('');
    assert.notEqual(await a.exit(), 0);
    assert.equal(a.posted.some((m) => m.t === 'ready'), false);
    assert.equal(errorsOf(a.posted)[0]?.code, 'ORION_ERR_SCHEMA_MISMATCH');
  });

  it('error: a schema mismatch is reported once, as a bootstrap error', async () => {
    const a = startActor('0'.repeat(64));
    await a.exit();
    assert.deepEqual(
      errorsOf(a.posted).map((m) => m.phase),
      ['bootstrap'],
    );
  });
});
