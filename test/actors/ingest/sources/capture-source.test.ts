import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CaptureFileSource } from '../../../../src/actors/ingest/sources/capture-source.js';
import type { SourceSink, SourceStatusEvent } from '../../../../src/actors/ingest/sources/source.js';
import type { BlockEvent, RpcTransaction } from '../../../../src/messages/schema.js';
import { CaptureWriter } from '../../../../src/replay/capture/capture-writer.js';
import { monoNs } from '../../../../src/runtime/clock.js';
import { testBlock } from '../../../support/records.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'orion-capsrc-'));
  dirs.push(d);
  return d;
}

type Event = { t: 'tx'; hash: string; raw: Uint8Array | null; rpc: RpcTransaction | null; seenNs: number } | { t: 'block'; block: BlockEvent } | { t: 'status'; event: SourceStatusEvent };

function recordingSink(): { sink: SourceSink; events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    sink: {
      tx: (_s, seenNs, hash, raw, rpc) => events.push({ t: 'tx', hash, raw, rpc, seenNs }),
      block: (_s, _n, block) => events.push({ t: 'block', block }),
      status: (_s, event) => events.push({ t: 'status', event }),
    },
  };
}

/** A capture of `n` raw txs 1 ms apart (by recorded time) with a block after every 10th. */
function writeCapture(dir: string, n: number): void {
  const w = new CaptureWriter(dir, { chainId: 31337, sources: [{ id: 0, name: 'node', url: 'ws://127.0.0.1:8545' }], startNs: 0 });
  for (let i = 0; i < n; i++) {
    const raw = Uint8Array.from([0x02, i & 0xff, (i >> 8) & 0xff, 7]);
    w.writeTx(i * 1e6, 0, { raw, hash: `0x${i.toString(16).padStart(64, '0')}` });
    if (i % 10 === 9) w.writeBlock(i * 1e6 + 1, 0, testBlock({ number: (i + 1) / 10 }));
  }
  w.writeTx(n * 1e6, 0, { rpc: { hash: '0xabc', nonce: '0x1' } });
  w.close();
}

describe('CaptureFileSource', () => {
  it('default: delivers every record in recorded order at max speed, then finishes', async () => {
    const dir = tempDir();
    writeCapture(dir, 2000);
    const { sink, events } = recordingSink();
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const src = new CaptureFileSource(3, 'cap', { path: dir, speed: 'max', onFinished: done }, sink);
    src.start();
    await ended;
    await src.stop();
    const txs = events.filter((e) => e.t === 'tx');
    const blocks = events.filter((e) => e.t === 'block');
    assert.equal(txs.length, 2001);
    assert.equal(blocks.length, 200);
    txs.slice(0, 2000).forEach((e, i) => {
      assert.equal(e.t === 'tx' && e.hash, `0x${i.toString(16).padStart(64, '0')}`);
      assert.ok(e.t === 'tx' && e.raw !== null);
      assert.deepEqual(new Uint8Array(e.raw), Uint8Array.from([0x02, i & 0xff, (i >> 8) & 0xff, 7]));
    });
    const last = txs[2000]!;
    assert.ok(last.t === 'tx' && last.raw === null);
    assert.deepEqual(last.t === 'tx' && last.rpc, { hash: '0xabc', nonce: '0x1' });
    // A block follows its 10th tx, as recorded.
    const order = events.filter((e) => e.t !== 'status').map((e) => e.t);
    assert.deepEqual(order.slice(0, 11), [...Array(10).fill('tx'), 'block']);
    assert.equal(src.stats().txs, 2001);
    assert.equal(src.stats().blocks, 200);
    assert.ok(events.some((e) => e.t === 'status' && e.event.type === 'stopped'));
    assert.equal(src.lossless, true);
  });

  it('behavior: at speed 1 the records keep their recorded spacing', async () => {
    const dir = tempDir();
    writeCapture(dir, 200); // 200 ms recorded
    const { sink, events } = recordingSink();
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const src = new CaptureFileSource(0, 'cap', { path: dir, speed: 1, onFinished: done }, sink);
    const t0 = monoNs();
    src.start();
    await ended;
    const last = events.filter((e) => e.t === 'tx').at(-1)!;
    const span = (last.t === 'tx' ? last.seenNs : 0) - t0;
    // Pacing can only be late, never early: the last record (recorded at 200 ms) comes no sooner (less a 1 ms grain).
    assert.ok(span >= 199e6, `last record after ${span / 1e6} ms, recorded at 200 ms`);
  });

  it('error: a missing capture is reported as an error status, and the source finishes', async () => {
    const { sink, events } = recordingSink();
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const src = new CaptureFileSource(0, 'cap', { path: join(tempDir(), 'nothing-here'), speed: 'max', onFinished: done }, sink);
    src.start();
    await ended;
    const err = events.find((e) => e.t === 'status' && e.event.type === 'error');
    assert.ok(err && err.t === 'status' && err.event.type === 'error');
    assert.equal(err.event.error.code, 'ORION_ERR_CAPTURE');
    assert.match(src.stats().lastError ?? '', /nothing-here|no capture|segment/i);
  });

  it('behavior: a torn last record ends delivery there with an error naming the offset; earlier records are delivered', async () => {
    const dir = tempDir();
    writeCapture(dir, 100);
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.orcap'))!);
    truncateSync(seg, statSync(seg).size - 3);
    const { sink, events } = recordingSink();
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const src = new CaptureFileSource(0, 'cap', { path: dir, speed: 'max', onFinished: done }, sink);
    src.start();
    await ended;
    assert.equal(events.filter((e) => e.t === 'tx').length, 100, 'the 100 raw txs before the torn rpc record');
    const err = events.find((e) => e.t === 'status' && e.event.type === 'error');
    assert.ok(err && err.t === 'status' && err.event.type === 'error');
    assert.match(err.event.error.message, /torn record .* at byte \d+/);
  });
});
