import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  Ledger,
  LedgerError,
  type LedgerEntry,
  type LedgerInput,
  type SubmissionRecord,
} from '../../../src/actors/submitter/ledger.js';
import type { Hex, RouteName } from '../../../src/actors/submitter/types.js';
import { mulberry32 } from '../../support/prng.js';

const LEDGER_URL = new URL('../../../src/actors/submitter/ledger.js', import.meta.url).href;

const root = mkdtempSync(join(tmpdir(), 'orion-ledger-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A ledger path in a directory that does not exist yet. */
const freshPath = () => join(root, `l${n++}`, 'ledger.jsonl');

const NOW = 1_750_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNT = `0x${'ab'.repeat(20)}`;
/** Anvil's first dev key: what the guard must keep out. */
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

const hash = (i: number): Hex => `0x${i.toString(16).padStart(64, '0')}`;

function submission(id: string, fields: Partial<Extract<LedgerInput, { type: 'submission' }>> = {}): LedgerInput {
  return {
    type: 'submission',
    id,
    oppId: `opp-${id}`,
    kind: 'sandwich',
    route: 'flashbots',
    protected: true,
    dryRun: false,
    account: ACCOUNT,
    nonces: [7n, 8n],
    txHashes: [hash(1), hash(2), hash(3)],
    ours: [0, 2],
    targetBlock: 100,
    predictedNetWei: 5_000n,
    feesWei: 1_000n,
    mevAvoidedWei: 300n,
    ...fields,
  };
}

const send = (id: string, route: RouteName, ok: boolean, definite = true): LedgerInput => ({ type: 'send', id, route, ok, definite, ...(ok ? {} : { error: 'refused' }) });

function open(path: string, at = NOW): Ledger {
  return Ledger.open(path, { now: () => at, settleMs: 1 });
}

/** JSON for assertion messages: bigints as `123n`. */
const show = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

describe('Ledger', () => {
  it('default', () => {
    const path = freshPath();
    const l = open(path);
    assert.deepEqual(l.openReport(), { path, created: true, entries: 0, bytes: 0, tornTail: null });
    const s = l.append(submission('s1'));
    assert.equal(s.at, NOW, 'at defaults to the clock');
    assert.equal(s.v, 1);
    l.append(send('s1', 'flashbots', true));
    l.append({ type: 'outcome', id: 's1', status: 'included', block: 100, realizedNetWei: 4_200n, gasPaidWei: 800n, at: NOW + 12_000 });
    const r = l.get('s1') as SubmissionRecord;
    assert.equal(r.status, 'included');
    assert.equal(r.sends.length, 1);
    assert.equal(r.outcome?.realizedNetWei, '4200');
    assert.equal(r.entry.predictedNetWei, '5000');
    assert.deepEqual(r.entry.nonces, ['7', '8']);
    assert.equal(l.entries, 3);
    l.close();

    const text = lines(path);
    assert.equal(text.length, 3);
    for (const line of text) assert.match(line, /^\{"v":1,"type":"/, 'every line starts with its version and type');
    assert.match(text[0]!, /"predictedNetWei":"5000"/, 'bigints are decimal strings');
    assert.equal(statSync(path).mode & 0o777, 0o600);

    const again = open(path);
    assert.deepEqual(again.openReport(), { path, created: false, entries: 3, bytes: statSync(path).size, tornTail: null });
    assert.deepEqual(again.get('s1'), r, 'replay rebuilds the same state');
    again.close();
  });

  it('behavior: state per id follows sends, fallbacks, outcomes and retries', () => {
    const l = open(freshPath());
    l.append(submission('a'));
    assert.equal(l.get('a')?.status, 'recorded');
    l.append(send('a', 'flashbots', false));
    assert.equal(l.get('a')?.status, 'refused');
    l.append(send('a', 'mev-blocker', true));
    let r = l.get('a') as SubmissionRecord;
    assert.equal(r.status, 'pending');
    assert.equal(r.route, 'mev-blocker', 'the route that took it, not the first choice');
    assert.equal(r.entry.route, 'flashbots');
    l.append({ type: 'outcome', id: 'a', status: 'missed', block: 100 });
    assert.equal(l.get('a')?.status, 'missed');
    l.append(send('a', 'mev-blocker', true));
    r = l.get('a') as SubmissionRecord;
    assert.equal(r.status, 'pending', 'a retry of the same id is pending again');
    assert.equal(r.outcome, null);
    assert.equal(r.history.length, 1);
    assert.equal(r.sends.length, 3);
    l.append({ type: 'outcome', id: 'a', status: 'included', block: 101, realizedNetWei: -5n });
    assert.equal(l.get('a')?.status, 'included');
    assert.equal(l.get('nope'), undefined);
    l.close();
  });

  it('behavior: a torn last line is truncated back to the last complete line and reported', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    l.append(send('a', 'public', true));
    l.close();
    const good = statSync(path).size;
    // A crash mid-write: part of a line, no newline.
    appendFileSync(path, '{"v":1,"type":"outcome","id":"a","at":1,"sta');
    const again = open(path);
    assert.deepEqual(again.openReport().tornTail, { offset: good, bytes: 44, line: 3 });
    assert.equal(again.openReport().entries, 2);
    assert.equal(statSync(path).size, good);
    assert.equal(again.get('a')?.status, 'pending');
    again.append({ type: 'outcome', id: 'a', status: 'included', block: 5 });
    again.close();
    const third = open(path);
    assert.equal(third.openReport().tornTail, null);
    assert.equal(third.get('a')?.status, 'included');
    assert.equal(lines(path).length, 3);
    third.close();
  });

  it('behavior: a final line of garbage ending in a newline is torn too', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    l.close();
    const good = statSync(path).size;
    appendFileSync(path, '\0\0\0\0\n');
    const again = open(path);
    assert.deepEqual(again.openReport().tornTail, { offset: good, bytes: 5, line: 2 });
    assert.equal(statSync(path).size, good);
    again.close();
  });

  it('error: a damaged line in the middle names its line and byte offset, and nothing is changed', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    l.close();
    const first = statSync(path).size;
    appendFileSync(path, '{"v":1,"type":"send","id":"a","at":1,"route":"pub\n');
    appendFileSync(path, `${JSON.stringify({ v: 1, type: 'outcome', id: 'a', at: 2, status: 'missed' })}\n`);
    const size = statSync(path).size;
    assert.throws(
      () => open(path),
      (e: unknown) => e instanceof LedgerError && e.line === 2 && e.offset === first && e.fatal && e.message.includes(`line 2 at byte ${first}`) && /not JSON/.test(e.message),
    );
    assert.equal(statSync(path).size, size, 'a damaged file is never truncated');
  });

  it('error: a valid-JSON entry the schema refuses is an error, even as the last line', () => {
    for (const bad of [
      { v: 1, type: 'send', id: 'a', at: 1, route: 'public', ok: true, definite: true, extra: 1 },
      { v: 2, type: 'send', id: 'a', at: 1, route: 'public', ok: true, definite: true },
      { v: 1, type: 'send', id: 'zzz', at: 1, route: 'public', ok: true, definite: true },
      { v: 1, type: 'submission', id: 'a', at: 1 },
    ]) {
      const path = freshPath();
      const l = open(path);
      l.append(submission('a'));
      l.close();
      const first = statSync(path).size;
      appendFileSync(path, `${JSON.stringify(bad)}\n`);
      assert.throws(() => open(path), (e: unknown) => e instanceof LedgerError && e.line === 2 && e.offset === first, JSON.stringify(bad));
    }
  });

  it('behavior: every entry whose append returned survives a process killed mid-run', async () => {
    const path = freshPath();
    // A child appends until killed, printing each id once append has returned.
    const code = `
      const { Ledger } = await import(${JSON.stringify(LEDGER_URL)});
      const l = Ledger.open(${JSON.stringify(path)});
      for (let i = 0; ; i++) {
        l.append({ type: 'submission', id: 'c' + i, oppId: 'o', kind: 'backrun', route: 'public', protected: false, dryRun: false,
          account: '0x${'ab'.repeat(20)}', nonces: [String(i)], txHashes: ['0x${'11'.repeat(32)}'], ours: [0], targetBlock: i,
          predictedNetWei: '1', feesWei: '1', mevAvoidedWei: '0' });
        l.append({ type: 'send', id: 'c' + i, route: 'public', ok: true, definite: true });
        process.stdout.write('c' + i + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: string[] = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const ids = out.split('\n').slice(0, -1);
        if (ids.length >= 40) {
          child.kill('SIGKILL');
          resolve(ids);
        }
      });
      child.on('exit', (c, sig) => sig === null && reject(new Error(`child exited with ${c}`)));
    });
    await new Promise((r) => child.once('close', r));
    const l = open(path);
    for (const id of acked) assert.equal(l.get(id)?.status, 'pending', id);
    assert.ok(l.entries >= acked.length * 2);
    l.close();
  });

  it('behavior: two writers appending interleaved lose and merge no line', () => {
    const path = freshPath();
    const a = open(path);
    const b = open(path);
    const rng = mulberry32(6);
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [w, tag] = rng() < 0.5 ? [a, 'a'] : [b, 'b'];
      const id = `${tag}${i}`;
      w.append(submission(id, { oppId: `opp-${i}` }));
      expected.push(id);
      if (rng() < 0.5) {
        // The other writer resolves it: append reads the first writer's line before checking the id.
        (w === a ? b : a).append({ type: 'outcome', id, status: 'expired' });
        expected.push(`${id}:outcome`);
      }
    }
    a.close();
    b.close();
    const text = lines(path);
    assert.deepEqual(
      text.map((t) => {
        const e = JSON.parse(t) as LedgerEntry;
        return e.type === 'submission' ? e.id : `${e.id}:${e.type}`;
      }),
      expected,
    );
    const c = open(path);
    assert.equal(c.openReport().entries, expected.length);
    assert.equal(c.get('a0')?.type ?? c.get('b0')?.type, 'submission');
    c.close();
  });

  it('behavior: two threads appending at once lose and merge no line', async () => {
    const path = freshPath();
    open(path).close();
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.url).then(({ Ledger }) => {
        const l = Ledger.open(workerData.path);
        for (let i = 0; i < workerData.n; i++)
          l.append({ type: 'protect', id: workerData.tag + i, txHash: '0x' + i.toString(16).padStart(64, '0'), route: 'mev-blocker',
            account: '0x${'cd'.repeat(20)}', sizeWei: String(i) + '0'.repeat(i % 70), exposureWei: String(i) });
        l.close();
        parentPort.postMessage('done');
      });`;
    const N = 300;
    const run = (tag: string) =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { url: LEDGER_URL, path, n: N, tag } });
        w.once('message', () => resolve());
        w.once('error', reject);
      });
    // Line lengths vary (amounts up to ~70 digits), so lines straddle page boundaries while the other thread writes.
    await Promise.all([run('x'), run('y')]);
    const l = open(path);
    assert.equal(l.openReport().entries, 2 * N);
    for (const tag of ['x', 'y']) {
      const seq = lines(path)
        .map((t) => (JSON.parse(t) as LedgerEntry).id)
        .filter((id) => id.startsWith(tag));
      assert.deepEqual(seq, Array.from({ length: N }, (_, i) => `${tag}${i}`), `${tag}: in order, none lost`);
    }
    assert.equal(l.pending().length, 2 * N);
    l.close();
  });

  it('behavior: refresh() reads what another writer appended, and leaves a line still being written', () => {
    const path = freshPath();
    const submitter = open(path);
    const gateway = open(path);
    gateway.append({ type: 'protect', id: 'p1', txHash: hash(9), route: 'mev-blocker', account: ACCOUNT, sizeWei: 10n ** 18n, exposureWei: 10n ** 15n });
    assert.equal(submitter.get('p1'), undefined, 'queries read memory only');
    assert.equal(submitter.refresh(), 1);
    assert.equal(submitter.get('p1')?.status, 'pending');
    assert.equal(submitter.refresh(), 0);

    const line = `${JSON.stringify({ v: 1, type: 'outcome', id: 'p1', at: NOW, status: 'included', block: 7 })}\n`;
    appendFileSync(path, line.slice(0, 20));
    assert.equal(submitter.refresh(), 0, 'half a line is not read');
    appendFileSync(path, line.slice(20));
    assert.equal(submitter.refresh(), 1);
    assert.equal(submitter.get('p1')?.status, 'included');
    submitter.close();
    gateway.close();
  });

  it('behavior: pending() holds what may still land, reorgs reopen, dry-runs and refusals never pend', () => {
    const l = open(freshPath());
    l.append(submission('recorded'));
    l.append(submission('dry', { route: 'dry-run', dryRun: true, protected: false, mevAvoidedWei: 0n }));
    l.append(submission('refused'));
    l.append(send('refused', 'flashbots', false));
    l.append(submission('maybe'));
    l.append({ type: 'send', id: 'maybe', route: 'private-rpc', ok: false, definite: false, error: 'timeout' });
    l.append(submission('sent'));
    l.append(send('sent', 'flashbots', true));
    l.append(submission('landed'));
    l.append(send('landed', 'flashbots', true));
    l.append({ type: 'outcome', id: 'landed', status: 'included', block: 100, realizedNetWei: 4_000n });
    l.append({ type: 'protect', id: 'p-open', txHash: hash(10), route: 'mev-blocker', account: ACCOUNT, sizeWei: 1n, exposureWei: 1n });
    l.append({ type: 'protect', id: 'p-done', txHash: hash(11), route: 'mev-blocker', account: ACCOUNT, sizeWei: 1n, exposureWei: 1n });
    l.append({ type: 'outcome', id: 'p-done', status: 'included', block: 100 });
    const ids = () => l.pending().map((r) => r.id).sort();
    assert.deepEqual(ids(), ['maybe', 'p-open', 'recorded', 'sent']);
    assert.equal(l.stats(NOW).daily.netWei, '4000');

    l.append({ type: 'reopened', id: 'landed', block: 100, reason: 'reorg' });
    l.append({ type: 'reopened', id: 'p-done', block: 100, reason: 'reorg' });
    assert.deepEqual(ids(), ['landed', 'maybe', 'p-done', 'p-open', 'recorded', 'sent']);
    const r = l.get('landed') as SubmissionRecord;
    assert.equal(r.outcome, null);
    assert.equal(r.history.length, 2);
    assert.equal(l.stats(NOW).daily.netWei, '0', 'a reorged-out profit no longer counts');
    l.append({ type: 'outcome', id: 'landed', status: 'included', block: 101, realizedNetWei: 3_900n });
    l.append({ type: 'outcome', id: 'sent', status: 'missed' });
    assert.deepEqual(ids(), ['maybe', 'p-done', 'p-open', 'recorded']);
    l.close();

    // The same after a restart.
    const again = open(l.path!);
    assert.deepEqual(again.pending().map((x) => x.id).sort(), ['maybe', 'p-done', 'p-open', 'recorded']);
    assert.equal(again.stats(NOW).daily.netWei, '3900');
    again.close();
  });

  it('behavior: stats windows, inclusion rate, losses, savings and trades by route', () => {
    const l = open(freshPath());
    let i = 0;
    /** One submission at `at`, sent on `route`, with an outcome when `status` is given. */
    const trade = (at: number, route: RouteName, status: 'included' | 'missed' | 'reverted' | 'expired' | null, net?: bigint, prot = false) => {
      const id = `t${i++}`;
      l.append(submission(id, { at, route, protected: prot, mevAvoidedWei: prot ? 300n : 0n }));
      l.append({ ...send(id, route, true), at: at + 1 } as LedgerInput);
      if (status) l.append({ type: 'outcome', id, at: at + 12_000, status, ...(net === undefined ? {} : { realizedNetWei: net, gasPaidWei: 100n }) });
    };
    trade(NOW - HOUR, 'flashbots', 'included', 1_000n, true); // daily
    trade(NOW - DAY, 'flashbots', 'reverted', -100n); // daily: the boundary is inclusive
    trade(NOW - DAY - 1, 'public', 'included', 500n); // weekly only
    trade(NOW - 2 * HOUR, 'mev-blocker', 'missed', undefined, true); // daily, protected but not landed: no savings
    trade(NOW - 3 * HOUR, 'mev-blocker', null); // daily, pending
    trade(NOW - 7 * DAY, 'private-rpc', 'included', -50n); // weekly: boundary inclusive; a loss though included
    trade(NOW - 7 * DAY - 1, 'public', 'expired'); // all time only
    trade(NOW + 1, 'public', 'included', 10n ** 18n); // the future: nowhere
    l.append(submission('dry', { at: NOW - HOUR, route: 'dry-run', dryRun: true, protected: false, mevAvoidedWei: 0n }));
    l.append(submission('ref', { at: NOW - HOUR }));
    l.append({ ...send('ref', 'flashbots', false), at: NOW - HOUR } as LedgerInput);
    l.append({ type: 'protect', id: 'p1', at: NOW - HOUR, txHash: hash(1), route: 'mev-blocker', account: ACCOUNT, sizeWei: 10n ** 18n, exposureWei: 7_000n });
    l.append({ type: 'outcome', id: 'p1', at: NOW, status: 'included', block: 9, realizedNetWei: 10n ** 20n });
    l.append({ type: 'protect', id: 'p2', at: NOW - 2 * DAY, txHash: hash(2), route: 'mev-blocker', account: ACCOUNT, sizeWei: 1n, exposureWei: 20n });
    l.append({ type: 'outcome', id: 'p2', at: NOW, status: 'included' });

    const { daily, weekly, allTime } = l.stats(NOW);
    assert.deepEqual(daily, {
      from: NOW - DAY,
      to: NOW,
      savingsWei: '7300',
      lossesWei: '100',
      profitWei: '1000',
      netWei: '900',
      predictedNetWei: '5000',
      gasPaidWei: '200',
      trades: 4,
      tradesByRoute: { flashbots: 2, 'mev-blocker': 2, 'private-rpc': 0, public: 0, 'dry-run': 0 },
      included: 1,
      missed: 1,
      reverted: 1,
      replaced: 0,
      expired: 0,
      cancelled: 0,
      pending: 1,
      inclusionRate: 1 / 3,
      refused: 1,
      dryRuns: 1,
      protectTxs: 1,
    });
    assert.equal(weekly.from, NOW - 7 * DAY);
    assert.equal(weekly.trades, 6);
    assert.deepEqual(weekly.tradesByRoute, { flashbots: 2, 'mev-blocker': 2, 'private-rpc': 1, public: 1, 'dry-run': 0 });
    assert.equal(weekly.lossesWei, '150');
    assert.equal(weekly.netWei, '1350');
    assert.equal(weekly.savingsWei, '7320');
    assert.equal(weekly.inclusionRate, 3 / 5);
    assert.equal(weekly.protectTxs, 2);
    assert.equal(allTime.trades, 8, 'all time is every record, the future one too');
    assert.equal(allTime.expired, 1);
    assert.equal(allTime.inclusionRate, 4 / 6, 'expired counts against no rate');
    assert.equal(allTime.savingsWei, '7320');
    assert.equal(allTime.netWei, (10n ** 18n + 1350n).toString());

    l.close();
    const e = open(freshPath());
    const empty = e.stats(NOW);
    e.close();
    assert.equal(empty.daily.inclusionRate, null);
    assert.equal(empty.weekly.netWei, '0');
  });

  it('behavior: all-time totals kept incrementally agree with a fresh scan, over a seeded random run', () => {
    const path = freshPath();
    const l = open(path);
    const rng = mulberry32(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
    const routes: RouteName[] = ['flashbots', 'mev-blocker', 'private-rpc', 'public'];
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      const at = NOW - Math.floor(rng() * 6 * DAY);
      const x = rng();
      if (ids.length === 0 || x < 0.2) {
        const id = `r${i}`;
        const prot = rng() < 0.5;
        if (rng() < 0.1) l.append({ type: 'protect', id, at, txHash: hash(i), route: 'mev-blocker', account: ACCOUNT, sizeWei: 1n, exposureWei: BigInt(i) });
        else l.append(submission(id, { at, route: pick(routes), protected: prot, mevAvoidedWei: prot ? BigInt(i) : 0n, dryRun: rng() < 0.05, predictedNetWei: BigInt(i - 300) }));
        ids.push(id);
        continue;
      }
      const id = pick(ids);
      const r = l.get(id)!;
      if (r.type === 'submission' && r.entry.dryRun) continue;
      if (r.type === 'submission' && x < 0.5) l.append({ type: 'send', id, route: pick(routes), ok: rng() < 0.7, definite: rng() < 0.9 });
      else if (x < 0.85) {
        const status = pick(['included', 'missed', 'reverted', 'replaced', 'expired'] as const);
        l.append({ type: 'outcome', id, status, ...(rng() < 0.7 ? { realizedNetWei: BigInt(Math.floor(rng() * 2000) - 1000), gasPaidWei: BigInt(i) } : {}) });
      } else l.append({ type: 'reopened', id, block: i, reason: 'reorg' });
    }
    const check = (x: Ledger) => {
      const { weekly, allTime } = x.stats(NOW);
      assert.ok(allTime.trades > 50 && allTime.included > 5 && allTime.pending > 5, 'the run covers every state');
      assert.deepEqual({ ...allTime, from: 0, to: 0 }, { ...weekly, from: 0, to: 0 });
    };
    check(l);
    l.close();
    const again = open(path);
    check(again);
    const third = open(path);
    assert.deepEqual(again.stats(NOW), third.stats(NOW));
    third.close();
    again.close();
  });

  it('regression: open does not truncate a line another writer is still writing', async () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    l.close();
    const line = `${JSON.stringify({ v: 1, type: 'send', id: 'a', at: NOW, route: 'public', ok: true, definite: true })}\n`;
    appendFileSync(path, line.slice(0, 30));
    // The other writer finishes its line 100 ms after being told open has started.
    const go = new Int32Array(new SharedArrayBuffer(4));
    const code = `
      const { workerData } = require('node:worker_threads');
      const { appendFileSync } = require('node:fs');
      Atomics.wait(workerData.go, 0, 0);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      appendFileSync(workerData.path, workerData.rest);`;
    const w = new Worker(code, { eval: true, workerData: { go, path, rest: line.slice(30) } });
    await new Promise((r) => w.once('online', r));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0); // wakes the worker, which then waits out its 100 ms while open reads
    const t0 = performance.now();
    const again = Ledger.open(path, { settleMs: 400 });
    assert.ok(performance.now() - t0 >= 400, 'open saw the half line and waited for it to settle');
    assert.equal(again.openReport().tornTail, null);
    assert.equal(again.get('a')?.status, 'pending');
    assert.equal(lines(path).length, 2);
    again.close();
    await new Promise((r) => w.once('exit', r));
  });

  it('error: the secret guard refuses anything shaped like a key and never echoes it', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    const refused: unknown[] = [
      { ...submission('k1'), privateKey: KEY },
      { ...submission('k2'), key: 'x' },
      { ...submission('k3'), signerSecret: 'x' },
      submission('k4', { kind: KEY }),
      submission('k5', { kind: KEY.slice(2) }),
      submission('k6', { account: KEY }),
      submission('k7', { feesWei: KEY }),
    ];
    for (const entry of refused) {
      assert.throws(
        () => l.append(entry as LedgerInput),
        (e: unknown) => e instanceof TypeError && !e.message.includes(KEY.slice(2)),
        show(entry),
      );
    }
    // Free text is redacted, not refused: RPC errors quote hashes.
    const s = l.append({ type: 'send', id: 'a', route: 'public', ok: false, definite: true, error: `nonce too low for ${KEY}` });
    assert.equal((s as Extract<LedgerEntry, { type: 'send' }>).error, 'nonce too low for 0x[redacted]');
    // Hash fields are allowed 64 hex digits.
    l.append(submission(hash(5), { oppId: hash(6) }));
    l.close();
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.toLowerCase().includes(KEY.slice(2)), 'the key never reached the file');
    assert.equal(lines(path).length, 3);
  });

  it('args: malformed or inconsistent entries are refused naming the field, and nothing is written', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('a'));
    l.append(submission('dry', { route: 'dry-run', dryRun: true, protected: false, mevAvoidedWei: 0n }));
    const size = statSync(path).size;
    const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ ...submission('b'), route: 'carrier-pigeon' }, TypeError, /submission\.route/],
      [submission('b', { feesWei: -1n }), RangeError, /submission\.feesWei/],
      [submission('b', { predictedNetWei: '1.5' }), TypeError, /submission\.predictedNetWei/],
      [submission('b', { protected: false }), RangeError, /mevAvoidedWei/],
      [submission('b', { ours: [5] , nonces: [1n] }), RangeError, /ours/],
      [submission('b', { nonces: [1n] }), RangeError, /nonces/],
      [submission('b', { txHashes: ['0x12' as Hex] }), TypeError, /txHashes/],
      [{ ...submission('b'), colour: 'red' }, TypeError, /submission\.colour: unknown field/],
      [{ ...submission('b'), v: 2 }, RangeError, /version/],
      [{ type: 'bogus', id: 'b' }, TypeError, /type must be one of/],
      [submission('a'), RangeError, /already recorded/],
      [send('zzz', 'public', true), RangeError, /no submission/],
      [send('dry', 'public', true), RangeError, /dry-run/],
      [{ type: 'outcome', id: 'a', status: 'lost' }, TypeError, /outcome\.status/],
      [{ type: 'outcome', id: 'a', status: 'included', at: -1 }, TypeError, /outcome\.at/],
      [{ type: 'reopened', id: 'a', block: 1, reason: 'whim' }, TypeError, /reopened\.reason/],
    ];
    for (const [entry, type, message] of cases) assert.throws(() => l.append(entry as LedgerInput), (e: unknown) => e instanceof type && message.test((e as Error).message), show(entry));
    assert.equal(statSync(path).size, size);
    l.close();
  });

  it('behavior: replacements and cancellations: the record lists the transactions in force, a cancellation pends until its outcome, and replay rebuilds it', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('r', { maxFeePerGas: [30n, 30n], maxPriorityFeePerGas: [2n, 1n] }));
    l.append(send('r', 'flashbots', true));
    // A refused replacement changes nothing; a taken one is what is in force from then on.
    l.append({ type: 'replace', id: 'r', route: 'flashbots', ok: false, definite: true, error: 'rpc: refused', txHashes: [hash(11), hash(2), hash(13)], nonces: [7n, 8n], maxFeePerGas: [33n, 33n], maxPriorityFeePerGas: [3n, 2n] });
    let r = l.get('r') as SubmissionRecord;
    assert.deepEqual(r.entry.txHashes, [hash(1), hash(2), hash(3)]);
    assert.equal(r.replacements.length, 0);
    l.append({ type: 'replace', id: 'r', route: 'flashbots', ok: true, definite: true, txHashes: [hash(11), hash(2), hash(13)], nonces: [7n, 8n], maxFeePerGas: [33n, 33n], maxPriorityFeePerGas: [3n, 2n] });
    r = l.get('r') as SubmissionRecord;
    assert.deepEqual(r.entry.txHashes, [hash(11), hash(2), hash(13)]);
    assert.deepEqual([r.entry.maxFeePerGas, r.entry.maxPriorityFeePerGas], [['33', '33'], ['3', '2']]);
    assert.equal(r.replacements.length, 1);
    assert.equal(r.status, 'pending');
    l.append({ type: 'cancel', id: 'r', route: 'flashbots', by: 'operator', ok: true, definite: true, txHashes: [], nonces: [7n, 8n] });
    r = l.get('r') as SubmissionRecord;
    assert.equal(r.cancel?.by, 'operator');
    assert.equal(r.status, 'pending', 'pending until the outcome');
    assert.deepEqual(l.pending().map((x) => x.id), ['r']);
    l.append({ type: 'outcome', id: 'r', status: 'cancelled', block: 101 });
    assert.equal(l.get('r')?.status, 'cancelled');
    assert.deepEqual(l.pending(), []);
    // A transaction route's cancellation: one self-transfer per nonce.
    l.append(submission('t', { txHashes: [hash(20)], ours: [0], nonces: [9n], route: 'private-rpc' }));
    l.append(send('t', 'private-rpc', true));
    l.append({ type: 'cancel', id: 't', route: 'private-rpc', by: 'window', ok: true, definite: true, txHashes: [hash(21)], nonces: [9n], maxFeePerGas: [40n], maxPriorityFeePerGas: [4n] });
    l.append({ type: 'outcome', id: 't', status: 'cancelled', block: 104, realizedNetWei: -21_000n, gasPaidWei: 21_000n });
    const stats = l.stats(NOW).daily;
    assert.equal(stats.cancelled, 2);
    assert.equal(stats.trades, 2);
    assert.equal(stats.lossesWei, '21000');
    l.close();
    const again = open(path);
    assert.deepEqual(again.get('r'), l.get('r'), 'replay rebuilds the same state');
    assert.deepEqual((again.get('t') as SubmissionRecord).cancel?.txHashes, [hash(21)]);
    again.close();
  });

  it('args: a replace or cancel must fit its submission, and a dry-run has nothing to replace or cancel', () => {
    const l = open(freshPath());
    l.append(submission('s'));
    l.append(submission('dry', { dryRun: true }));
    const rep = (fields: Record<string, unknown>) => ({ type: 'replace', id: 's', route: 'flashbots', ok: true, definite: true, txHashes: [hash(1), hash(2), hash(3)], nonces: [7n, 8n], maxFeePerGas: [1n, 1n], maxPriorityFeePerGas: [1n, 1n], ...fields }) as LedgerInput;
    assert.throws(() => l.append(rep({ id: 'nope' })), /no submission with this id/);
    assert.throws(() => l.append(rep({ id: 'dry' })), /dry-run/);
    assert.throws(() => l.append(rep({ txHashes: [hash(1)] })), /as many transactions/);
    assert.throws(() => l.append(rep({ maxFeePerGas: [1n] })), /one per nonce/);
    const cancel = (fields: Record<string, unknown>) => ({ type: 'cancel', id: 's', route: 'flashbots', by: 'window', ok: true, definite: true, txHashes: [], nonces: [7n, 8n], ...fields }) as LedgerInput;
    assert.throws(() => l.append(cancel({ by: 'someone' })), /window' or 'operator/);
    assert.throws(() => l.append(cancel({ txHashes: [hash(5)] })), /one per nonce/);
    assert.throws(() => l.append(cancel({ nonces: [7n] })), /as many nonces/);
    assert.throws(() => l.append({ type: 'outcome', id: 's', status: 'withdrawn' } as unknown as LedgerInput), /status must be one of/);
    l.append(cancel({}));
    assert.equal((l.get('s') as SubmissionRecord).cancel?.by, 'window');
    l.close();
  });

  it('behavior: a ledger written before replacements, cancellations and fee fields reads as it did', () => {
    const path = freshPath();
    const l = open(path);
    l.append(submission('old'));
    l.append(send('old', 'flashbots', true));
    l.append({ type: 'outcome', id: 'old', status: 'missed', block: 102 });
    l.close();
    const text = readFileSync(path, 'utf8');
    assert.ok(!/maxFeePerGas|cancel|replace/.test(text), 'nothing new is written for an entry that has none of it');
    const again = open(path);
    const r = again.get('old') as SubmissionRecord;
    assert.deepEqual([r.status, r.replacements, r.cancel, r.entry.maxFeePerGas], ['missed', [], null, undefined]);
    assert.equal(again.stats(NOW).daily.cancelled, 0);
    again.close();
  });

  it('default: a null path is an in-memory ledger: entries are checked and applied, nothing is written', () => {
    const l = Ledger.open(null, { now: () => NOW });
    assert.deepEqual(l.openReport(), { path: null, created: true, entries: 0, bytes: 0, tornTail: null });
    assert.equal(l.path, null);
    l.append(submission('m'));
    l.append(send('m', 'flashbots', true));
    assert.equal(l.get('m')?.status, 'pending');
    assert.equal(l.refresh(), 0);
    assert.deepEqual(l.pending().map((x) => x.id), ['m']);
    assert.throws(() => l.append(submission('m')), /id already recorded/);
    assert.throws(() => l.append({ ...submission('k'), kind: KEY } as LedgerInput), /private key/);
    l.append({ type: 'outcome', id: 'm', status: 'included', block: 100, realizedNetWei: 7n });
    assert.equal(l.stats(NOW).daily.netWei, '7');
    assert.equal(l.entries, 3);
    l.close();
    assert.throws(() => l.append(submission('after')), /closed/);
  });

  it('behavior: close is idempotent and a closed ledger refuses entries', () => {
    const l = open(freshPath());
    l.close();
    l.close();
    assert.throws(() => l.append(submission('a')), (e: unknown) => e instanceof LedgerError && /closed/.test(e.message));
    assert.throws(() => l.refresh(), LedgerError);
  });

  it('behavior: an existing empty file opens empty', () => {
    const path = freshPath();
    open(path).close();
    writeFileSync(path, '');
    const l = open(path);
    assert.deepEqual(l.openReport(), { path, created: false, entries: 0, bytes: 0, tornTail: null });
    l.close();
  });

  it('args: a path that is not a regular file is refused', () => {
    assert.throws(() => Ledger.open('/dev/null'), /not a regular file/);
    assert.throws(() => Ledger.open(freshPath(), { settleMs: -1 }), TypeError);
  });
});
