import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { type NonceChainReader, NonceError, NonceManager } from '../../../src/actors/submitter/nonce-manager.js';
import type { Hex } from '../../../src/actors/submitter/types.js';
import { mulberry32 } from '../../support/prng.js';

const A = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const B = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';

/** A chain whose nonces the test sets, that counts reads and can delay or fail them. */
class FakeChain implements NonceChainReader {
  latest = new Map<string, bigint>();
  pending = new Map<string, bigint>();
  reads: Array<{ account: string; tag: 'latest' | 'pending' }> = [];
  /** When set, reads wait for it. */
  gate: Promise<void> | null = null;
  failNext: Error | null = null;

  async nonceAt(account: string, tag: 'latest' | 'pending'): Promise<bigint> {
    this.reads.push({ account, tag });
    await tick();
    if (this.gate !== null) await this.gate;
    if (this.failNext !== null) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    const latest = this.latest.get(account) ?? 0n;
    return tag === 'latest' ? latest : (this.pending.get(account) ?? latest);
  }
}

const hash = (n: number | bigint): Hex => `0x${BigInt(n).toString(16).padStart(64, '0')}`;

function assertConsecutive(got: bigint[], from: bigint): void {
  const sorted = [...got].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.equal(new Set(got).size, got.length, 'unique');
  sorted.forEach((n, i) => assert.equal(n, from + BigInt(i), 'gap-free'));
}

function isNonceError(code: string) {
  return (err: unknown) => err instanceof NonceError && err.code === code;
}

describe('nonce-manager', () => {
  it('default: the first reservation reads the chain\'s latest nonce once; later ones follow it', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 41n);
    const m = new NonceManager(chain);
    assert.deepEqual(await m.reserve(A), [41n]);
    assert.deepEqual(await m.reserve(A, 3), [42n, 43n, 44n]);
    assert.deepEqual(chain.reads, [{ account: A, tag: 'latest' }]);
    assert.deepEqual(m.snapshot(A), { floor: 41n, next: 45n, reserved: [41n, 42n, 43n, 44n], live: [] });
  });

  it('behavior: 100 concurrent reserve(…, 1) from one account give unique, gap-free nonces with one chain read', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 7n);
    const m = new NonceManager(chain);
    const got = (await Promise.all(Array.from({ length: 100 }, () => m.reserve(A, 1)))).flat();
    assertConsecutive(got, 7n);
    // Call order is kept: the i-th caller gets the i-th nonce.
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => 7n + BigInt(i)));
    assert.equal(chain.reads.length, 1);
  });

  it('behavior: 100 concurrent submissions of mixed sizes (bind then mined) stay unique, gap-free and consecutive per reservation', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 1000n);
    const m = new NonceManager(chain);
    const rng = mulberry32(11);
    const sizes = Array.from({ length: 100 }, () => 1 + Math.floor(rng() * 3));
    const results = await Promise.all(
      sizes.map(async (size, i) => {
        await tick(); // start at different turns
        const nonces = await m.reserve(A, size);
        for (const n of nonces) m.bind(A, n, { txHash: hash(n), route: i % 2 === 0 ? 'flashbots' : 'mev-blocker' });
        return nonces;
      }),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.length, sizes[i]);
      r.forEach((n, j) => assert.equal(n, r[0]! + BigInt(j), 'a reservation is consecutive'));
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    assertConsecutive(results.flat(), 1000n);
    assert.equal(m.live(A).length, total);
    const mined = m.onBlock(A, 1000n + BigInt(total));
    assert.equal(mined.mined.length, total);
    assert.deepEqual(m.live(A), []);
  });

  it('behavior: concurrent reservations for two accounts are independent', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 5n);
    chain.latest.set(B, 90n);
    const m = new NonceManager(chain);
    const [a, b] = await Promise.all([Promise.all(Array.from({ length: 20 }, () => m.reserve(A))), Promise.all(Array.from({ length: 20 }, () => m.reserve(B.toUpperCase().replace('0X', '0x'))))]);
    assertConsecutive(a.flat(), 5n);
    assertConsecutive(b.flat(), 90n);
  });

  it('behavior: released nonces are reused first, lowest first, so no gap remains', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    assert.deepEqual(await m.reserve(A, 6), [0n, 1n, 2n, 3n, 4n, 5n]);
    m.bind(A, 0n, { txHash: hash(0), route: 'flashbots' });
    m.bind(A, 2n, { txHash: hash(2), route: 'flashbots' });
    assert.equal(m.release(A, [4n, 1n, 3n]), 3);
    assert.deepEqual(await m.reserve(A), [1n]);
    // A run of two fits at 3–4 (5 is still held).
    assert.deepEqual(await m.reserve(A, 2), [3n, 4n]);
    assert.deepEqual(await m.reserve(A), [6n]);
    // Releasing the top shrinks the run: the next reservation gets it back.
    assert.equal(m.release(A, [6n, 5n]), 2);
    assert.deepEqual(await m.reserve(A, 2), [5n, 6n]);
  });

  it('behavior: a multi-nonce reservation skips a hole too small for it, and a later single one fills the hole', async () => {
    const m = new NonceManager(new FakeChain());
    await m.reserve(A, 4); // 0..3
    m.release(A, [1n]);
    assert.deepEqual(await m.reserve(A, 2), [4n, 5n]);
    assert.deepEqual(await m.reserve(A, 1), [1n]);
  });

  it('behavior: release skips nonces no longer held and refuses live ones', async () => {
    const m = new NonceManager(new FakeChain());
    await m.reserve(A, 2);
    m.bind(A, 0n, { txHash: hash(0), route: 'public' });
    assert.throws(() => m.release(A, [1n, 0n]), isNonceError('ORION_ERR_NONCE_STATE'));
    assert.deepEqual(m.snapshot(A).reserved, [1n], 'nothing released when one is refused');
    assert.equal(m.release(A, [1n, 99n]), 1);
    assert.equal(m.release(B, [0n]), 0);
  });

  it('error: bind of another hash on a live nonce throws, whatever the route — never two live txs with one nonce', async () => {
    const m = new NonceManager(new FakeChain());
    const [n] = await m.reserve(A);
    m.bind(A, n!, { txHash: hash(1), route: 'flashbots' });
    assert.throws(() => m.bind(A, n!, { txHash: hash(2), route: 'public' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    assert.throws(() => m.bind(A, n!, { txHash: hash(2), route: 'flashbots' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    assert.throws(() => m.bind(A, n!, { txHash: hash(2), route: 'public', rebroadcast: true }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    assert.deepEqual(m.live(A), [{ nonce: n, txHash: hash(1), routes: ['flashbots'], replaced: [] }]);
  });

  it('behavior: the same hash on a second route needs rebroadcast; the same route again is idempotent', async () => {
    const m = new NonceManager(new FakeChain());
    const [n] = await m.reserve(A);
    m.bind(A, n!, { txHash: hash(1), route: 'flashbots' });
    m.bind(A, n!, { txHash: hash(1), route: 'flashbots' });
    assert.throws(() => m.bind(A, n!, { txHash: hash(1), route: 'mev-blocker' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    m.bind(A, n!, { txHash: hash(1), route: 'mev-blocker', rebroadcast: true });
    assert.deepEqual(m.live(A)[0]!.routes, ['flashbots', 'mev-blocker']);
  });

  it('behavior: unbind after definite refusals frees the nonce for a fallback route; a pending route keeps it live', async () => {
    const m = new NonceManager(new FakeChain());
    const [n] = await m.reserve(A);
    m.bind(A, n!, { txHash: hash(1), route: 'flashbots' });
    m.bind(A, n!, { txHash: hash(1), route: 'mev-blocker', rebroadcast: true });
    assert.equal(m.unbind(A, n!, 'flashbots'), true, 'still live on mev-blocker');
    assert.throws(() => m.bind(A, n!, { txHash: hash(2), route: 'public' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    assert.equal(m.unbind(A, n!, 'mev-blocker'), false);
    assert.deepEqual(m.live(A), []);
    assert.deepEqual(m.snapshot(A).reserved, [n]);
    // Re-signed for the fallback route: a different hash is fine now.
    m.bind(A, n!, { txHash: hash(2), route: 'public' });
    assert.deepEqual(m.live(A), [{ nonce: n, txHash: hash(2), routes: ['public'], replaced: [] }]);
  });

  it('behavior: faults — a timed-out relay keeps the nonce live, so no fallback route sends another tx with it; a 500 or garbage frees it', async () => {
    const m = new NonceManager(new FakeChain());
    const [n] = await m.reserve(A);
    // Timeout: the relay may have taken it. The fallback (public) may not send a tx with this nonce…
    m.bind(A, n!, { txHash: hash(1), route: 'flashbots' });
    assert.throws(() => m.bind(A, n!, { txHash: hash(2), route: 'public' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    // …nor the same tx, unless the policy says so explicitly.
    assert.throws(() => m.bind(A, n!, { txHash: hash(1), route: 'public' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    // HTTP 500 or a garbage answer: a definite refusal, so the fallback may take the nonce.
    const [k] = await m.reserve(A);
    m.bind(A, k!, { txHash: hash(3), route: 'flashbots' });
    assert.equal(m.unbind(A, k!, 'flashbots'), false);
    m.bind(A, k!, { txHash: hash(4), route: 'mev-blocker' });
    const live = m.live(A);
    assert.deepEqual(live.map((l) => [l.nonce, l.txHash, l.routes]), [[n, hash(1), ['flashbots']], [k, hash(4), ['mev-blocker']]]);
  });

  it('error: bind of a nonce never reserved, released or passed by the chain throws STALE', async () => {
    const m = new NonceManager(new FakeChain());
    assert.throws(() => m.bind(A, 0n, { txHash: hash(0), route: 'public' }), isNonceError('ORION_ERR_NONCE_STALE'));
    const [n0, n1] = await m.reserve(A, 2);
    m.release(A, [n1!]);
    assert.throws(() => m.bind(A, n1!, { txHash: hash(1), route: 'public' }), isNonceError('ORION_ERR_NONCE_STALE'));
    assert.deepEqual(m.onBlock(A, 1n), { mined: [], stale: [n0] });
    assert.throws(() => m.bind(A, n0!, { txHash: hash(0), route: 'public' }), isNonceError('ORION_ERR_NONCE_STALE'));
  });

  it('behavior: replace swaps the live hash (same nonce, higher fee); the old one is no longer live', async () => {
    const m = new NonceManager(new FakeChain());
    const [n] = await m.reserve(A);
    assert.throws(() => m.replace(A, n!, hash(2)), isNonceError('ORION_ERR_NONCE_STATE'));
    m.bind(A, n!, { txHash: hash(1), route: 'public' });
    assert.equal(m.replace(A, n!, hash(2)), hash(1));
    assert.throws(() => m.bind(A, n!, { txHash: hash(1), route: 'public' }), isNonceError('ORION_ERR_NONCE_CONFLICT'));
    m.bind(A, n!, { txHash: hash(2), route: 'public' });
    // A cancellation is a replacement too, here on another route.
    assert.equal(m.replace(A, n!, hash(3), 'private-rpc'), hash(2));
    assert.deepEqual(m.live(A), [{ nonce: n, txHash: hash(3), routes: ['private-rpc'], replaced: [hash(1), hash(2)] }]);
    assert.throws(() => m.replace(A, 99n, hash(4)), isNonceError('ORION_ERR_NONCE_STALE'));
  });

  it('behavior: onBlock forgets mined nonces, reports them, and jumps a lagging next nonce forward', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 10n);
    const m = new NonceManager(chain);
    const ns = await m.reserve(A, 4); // 10..13
    m.bind(A, 10n, { txHash: hash(10), route: 'flashbots' });
    m.bind(A, 11n, { txHash: hash(11), route: 'flashbots' });
    const r = m.onBlock(A, 12n);
    assert.deepEqual(r.mined.map((x) => x.nonce), [10n, 11n]);
    assert.deepEqual(r.stale, []);
    assert.deepEqual(m.snapshot(A).reserved, [12n, 13n]);
    m.release(A, ns.slice(2));
    // Someone else used the account: the chain is ahead of us.
    assert.deepEqual(m.onBlock(A, 20n), { mined: [], stale: [] });
    assert.deepEqual(await m.reserve(A), [20n]);
    // A lagging node's lower nonce does not move the floor back.
    m.onBlock(A, 15n);
    assert.deepEqual(await m.reserve(A), [21n]);
    assert.equal(chain.reads.length, 1);
  });

  it('behavior: onBlock initializes an account without a chain read', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    m.onBlock(A, 3n);
    assert.deepEqual(await m.reserve(A), [3n]);
    assert.equal(chain.reads.length, 0);
  });

  it('behavior: a forced nonce-too-low resyncs from pending and the retry succeeds with the chain\'s nonce', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 5n);
    const m = new NonceManager(chain);
    const [n] = await m.reserve(A);
    const [held] = await m.reserve(A); // another submission's reservation, not yet bound
    m.bind(A, n!, { txHash: hash(5), route: 'private-rpc' });
    // Meanwhile another process sent 5..8; the node refuses ours.
    chain.latest.set(A, 8n);
    chain.pending.set(A, 9n);
    m.unbind(A, n!, 'private-rpc'); // the refusal was definite
    assert.equal(await m.onError(A, 'nonce-too-low'), 9n);
    assert.deepEqual(chain.reads.at(-1), { account: A, tag: 'pending' });
    assert.throws(() => m.bind(A, held!, { txHash: hash(6), route: 'public' }), isNonceError('ORION_ERR_NONCE_STALE'));
    const [retry] = await m.reserve(A);
    assert.equal(retry, 9n);
    m.bind(A, retry!, { txHash: hash(9), route: 'private-rpc' });
    assert.deepEqual(await m.reserve(A, 2), [10n, 11n]);
  });

  it('behavior: nonce-too-low keeps live nonces below the pending nonce until a block shows them mined', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    await m.reserve(A, 2);
    m.bind(A, 0n, { txHash: hash(0), route: 'public' });
    m.bind(A, 1n, { txHash: hash(1), route: 'public' });
    chain.pending.set(A, 2n);
    assert.equal(await m.onError(A, 'nonce-too-low'), 2n);
    assert.equal(m.live(A).length, 2);
    m.onBlock(A, 2n);
    assert.equal(m.live(A).length, 0);
  });

  it('behavior: nonce-too-high resyncs from latest, moving the floor down so the gap is filled', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 3n);
    const m = new NonceManager(chain);
    await m.reserve(A, 3); // 3, 4, 5
    m.bind(A, 3n, { txHash: hash(3), route: 'flashbots' });
    m.bind(A, 4n, { txHash: hash(4), route: 'flashbots' });
    m.bind(A, 5n, { txHash: hash(5), route: 'public' });
    // The bundle with 3 and 4 expired without landing; the public tx with 5 is "too high".
    m.unbind(A, 3n, 'flashbots');
    m.unbind(A, 4n, 'flashbots');
    m.release(A, [3n, 4n]);
    m.onBlock(A, 5n); // a lagging or wrong block event claimed 5
    assert.equal(await m.onError(A, 'nonce-too-high'), 3n);
    assert.deepEqual(chain.reads.at(-1), { account: A, tag: 'latest' });
    assert.deepEqual(await m.reserve(A, 2), [3n, 4n]);
    assert.deepEqual(await m.reserve(A), [6n], '5 is still live on the public route');
  });

  it('behavior: reservations wait for a pending resync and then continue from its nonce', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    await m.reserve(A, 2); // 0, 1
    let open!: () => void;
    chain.gate = new Promise((r) => (open = r));
    chain.pending.set(A, 50n);
    const resync = m.onError(A, 'nonce-too-low');
    const waiting = Promise.all([m.reserve(A), m.reserve(A, 2)]);
    await tick();
    await tick();
    open();
    assert.equal(await resync, 50n);
    assert.deepEqual(await waiting, [[50n], [51n, 52n]]);
  });

  it('behavior: a block applied while the resync read is in flight wins when it is higher', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    await m.reserve(A);
    let open!: () => void;
    chain.gate = new Promise((r) => (open = r));
    chain.latest.set(A, 4n); // what the slow read returns
    const resync = m.onError(A, 'nonce-too-high');
    await tick();
    m.onBlock(A, 6n);
    open();
    assert.equal(await resync, 6n);
  });

  it('error: a failed first read rejects every waiting reservation, and the next call reads again', async () => {
    const chain = new FakeChain();
    chain.latest.set(A, 12n);
    chain.failNext = new Error('rpc down');
    const m = new NonceManager(chain);
    const all = await Promise.allSettled([m.reserve(A), m.reserve(A)]);
    assert.deepEqual(all.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(chain.reads.length, 1);
    assert.deepEqual(await m.reserve(A), [12n]);
    assert.equal(chain.reads.length, 2);
  });

  it('error: a failed resync rejects and leaves the state as it was', async () => {
    const chain = new FakeChain();
    const m = new NonceManager(chain);
    await m.reserve(A, 2);
    chain.failNext = new Error('rpc down');
    await assert.rejects(m.onError(A, 'nonce-too-low'), /rpc down/);
    assert.deepEqual(await m.reserve(A), [2n]);
  });

  it('args: bad count, bad error kind, bad reader or a reader returning garbage are refused', async () => {
    const m = new NonceManager(new FakeChain());
    await assert.rejects(m.reserve(A, 0), RangeError);
    await assert.rejects(m.reserve(A, 1.5), RangeError);
    await assert.rejects(m.onError(A, 'nonce-too-weird' as never), TypeError);
    assert.throws(() => new NonceManager({} as never), TypeError);
    const bad = new NonceManager({ nonceAt: async () => 5 as unknown as bigint });
    await assert.rejects(bad.reserve(A), TypeError);
  });

  it('args: account keys are case-insensitive', async () => {
    const m = new NonceManager(new FakeChain());
    await m.reserve(A.toUpperCase().replace('0X', '0x'));
    assert.deepEqual(await m.reserve(A), [1n]);
  });
});
