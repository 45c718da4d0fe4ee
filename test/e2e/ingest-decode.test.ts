import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rpc } from '../../src/devnet/anvil.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetRouters } from '../../src/devnet/routers.js';
import type { TrafficReport } from '../../src/devnet/traffic.js';
import type { IngestSourceConfig } from '../../src/actors/ingest/ingest-config.js';
import { Engine, livePipeline } from '../../src/engine.js';
import { toJsonValue } from '../../src/messages/json.js';
import { type DecodedTx, Kind } from '../../src/messages/schema.js';
import { testConfig } from '../support/harness.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The real ingest and decoder threads against a real anvil with Uniswap deployed and the devnet
 * traffic generator sending its mix: every transaction the node accepted must come out of the
 * decoder exactly once, with the sender the generator signed with.
 */
let devnet: Devnet;

before(async () => {
  devnet = await startDevnet({ blockTime: 1 });
});

after(async () => {
  await devnet?.stop();
});

interface LiveRun {
  decoded: Map<string, DecodedTx[]>;
  report: TrafficReport;
  stats: ReturnType<Engine['stats']>;
}

interface RunOptions {
  mode: 'full' | 'hashes';
  seed: number;
  count: number;
  proxyPort?: number;
  /** Replace the one node source. */
  sources?: IngestSourceConfig[];
  record?: string;
  onSent?: (n: number) => void;
}

async function runLive(opts: RunOptions): Promise<LiveRun> {
  const { anvil, deployment } = devnet;
  const url = opts.proxyPort ? `ws://127.0.0.1:${opts.proxyPort}` : anvil.wsUrl;
  const config = testConfig({
    pipeline: 'live',
    ingest: {
      sources: opts.sources ?? [{ kind: 'rpc-ws', name: 'anvil', url, mode: opts.mode }],
      record: opts.record ? { dir: opts.record, segmentBytes: 1 << 20, retainBytes: 0 } : null,
    },
    decoder: { chainId: anvil.chainId, routers: devnetRouters(deployment), filter: { enabled: false } },
  });
  const engine = new Engine(config, { pipeline: livePipeline(config, { until: 'decoder' }) });
  const decoded = new Map<string, DecodedTx[]>();
  engine.onOutput((m) => {
    if (m.kind !== Kind.DecodedTx) return;
    const tx = m.data as DecodedTx;
    const seen = decoded.get(tx.hash);
    if (seen) seen.push(tx);
    else decoded.set(tx.hash, [tx]);
  });
  await engine.start();
  try {
    const traffic = devnet.traffic({ rate: 60, seed: opts.seed, count: opts.count });
    await traffic.ready;
    if (opts.onSent) {
      let last = 0;
      const tick = setInterval(() => {
        if (traffic.records.length !== last) opts.onSent!((last = traffic.records.length));
      }, 20);
      traffic.done.finally(() => clearInterval(tick)).catch(() => {});
    }
    const report = await traffic.done;
    const want = report.records.filter((r) => r.accepted).map((r) => r.hash.toLowerCase());
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !want.every((h) => decoded.has(h))) await new Promise((r) => setTimeout(r, 50));
    await engine.stop();
    return { decoded, report, stats: engine.stats() };
  } catch (err) {
    await engine.kill();
    throw err;
  }
}

function assertEveryAcceptedTxOnce(run: LiveRun): void {
  const accepted = run.report.records.filter((r) => r.accepted);
  assert.ok(accepted.length >= run.report.records.length * 0.9, `the node accepted only ${accepted.length} of ${run.report.records.length}`);
  const missing = accepted.filter((r) => !run.decoded.has(r.hash.toLowerCase()));
  assert.equal(missing.length, 0, `never decoded: ${missing.slice(0, 5).map((r) => `${r.kind}/type ${r.type} ${r.hash}`).join(', ')}; decoder counters ${JSON.stringify(run.stats.stages.decoder?.counters)}`);
  for (const r of accepted) {
    const got = run.decoded.get(r.hash.toLowerCase())!;
    assert.equal(got.length, 1, `${r.hash} decoded ${got.length} times`);
    assert.equal(got[0]!.from, r.from.toLowerCase(), `sender of ${r.kind} type ${r.type}`);
    assert.equal(got[0]!.type, r.type);
    assert.equal(got[0]!.nonce, BigInt(r.nonce));
  }
}

describe('live ingest → decoder against anvil', () => {
  it('behavior: every accepted tx of the traffic mix is decoded exactly once with its sender (full objects)', async () => {
    const run = await runLive({ mode: 'full', seed: 11, count: 150 });
    assertEveryAcceptedTxOnce(run);
    const types = new Set([...run.decoded.values()].map((d) => d[0]!.type));
    for (const t of [0, 1, 2, 4]) assert.ok(types.has(t), `type ${t} among the decoded (got ${[...types].join(', ')})`);
    // Router swaps on the devnet's own routers are classified, naming the devnet's pairs.
    const { deployment } = devnet;
    const pairs = new Set(deployment.v2.flatMap((v) => v.pairs.map((p) => p.address.toLowerCase())));
    const v2 = run.report.records.filter((r) => r.accepted && r.kind === 'v2-swap' && deployment.v2.some((v) => v.router.toLowerCase() === r.to.toLowerCase()));
    assert.ok(v2.length > 0, 'the mix has V2 router swaps');
    for (const r of v2) {
      const intent = run.decoded.get(r.hash.toLowerCase())![0]!.intent;
      assert.ok(intent, `${r.method} ${r.hash} has an intent`);
      assert.equal(intent.kind, 'v2-router02');
      for (const leg of intent.legs) for (const pool of leg.pools) assert.ok(pairs.has(pool), `pool ${pool} of ${r.method} is a devnet pair`);
    }
    assert.equal(run.stats.stages.decoder!.counters['secp256k1.native'] ?? -1, 0, 'native recovery in use');
    const frameToRing = run.stats.stages.ingest!.histogramsUs.frameToRing;
    assert.ok(frameToRing && frameToRing.count >= run.decoded.size, 'ingest measured frame → ring for every tx');
  });

  it('behavior: the same in hash mode (hashes announced, raw transactions fetched in batches)', async () => {
    const run = await runLive({ mode: 'hashes', seed: 12, count: 100 });
    assertEveryAcceptedTxOnce(run);
    assert.ok(run.stats.stages.ingest!.counters['source.anvil.txs']! >= run.decoded.size);
  });

  it('behavior: across forced reconnects nothing is lost and nothing is emitted twice', async () => {
    // Mining paused: a tx mined while the source was away is no longer pending, so no pending-tx
    // feed can deliver it; with mining paused every tx sent during the gap is still in the pool for
    // the reconnect's backfill to find.
    await rpc(devnet.anvil.rpcUrl, 'evm_setIntervalMining', [0]);
    const proxy = new TcpProxy(devnet.anvil.port);
    const port = await proxy.listen();
    let cuts = 0;
    try {
      const run = await runLive({
        mode: 'full',
        seed: 13,
        count: 120,
        proxyPort: port,
        onSent: (n) => {
          // Cut the node connection twice mid-stream; the second time it refuses reconnects for a while.
          if ((n >= 30 && cuts === 0) || (n >= 70 && cuts === 1)) {
            cuts++;
            proxy.cut();
            if (cuts === 2) {
              proxy.refusing = true;
              setTimeout(() => (proxy.refusing = false), 300);
            }
          }
        },
      });
      assert.equal(cuts, 2);
      assertEveryAcceptedTxOnce(run);
      assert.ok((run.stats.stages.ingest!.counters['source.anvil.connected'] ?? 0) >= 3, `reconnected: ${JSON.stringify(run.stats.stages.ingest!.counters)}`);
    } finally {
      await proxy.close();
      await rpc(devnet.anvil.rpcUrl, 'evm_mine');
      await rpc(devnet.anvil.rpcUrl, 'evm_setIntervalMining', [1]);
    }
  });

  it('behavior: two sources are merged: each tx once, coverage and lag per source', async () => {
    const proxy = new TcpProxy(devnet.anvil.port);
    const port = await proxy.listen();
    try {
      const run = await runLive({
        mode: 'full',
        seed: 14,
        count: 80,
        sources: [
          { kind: 'rpc-ws', name: 'direct', url: devnet.anvil.wsUrl, mode: 'full' },
          { kind: 'rpc-ws', name: 'relayed', url: `ws://127.0.0.1:${port}`, mode: 'hashes' },
        ],
      });
      assertEveryAcceptedTxOnce(run);
      const c = run.stats.stages.ingest!.counters;
      const unique = c['unique.txs']!;
      // Both sources saw (nearly) every tx; the first to deliver each is counted once.
      assert.ok(c['source.direct.txs']! >= unique * 0.95 && c['source.relayed.txs']! >= unique * 0.95, JSON.stringify(c));
      assert.equal((c['source.direct.first'] ?? 0) + (c['source.relayed.first'] ?? 0), unique);
      const lagged = run.stats.stages.ingest!.histogramsUs;
      assert.ok((lagged['lag.direct']?.count ?? 0) + (lagged['lag.relayed']?.count ?? 0) >= unique * 0.9, 'every second sighting measured its lag');
      assert.ok(run.stats.stages.ingest!.duplicates >= unique * 0.9, 'second sightings are merged away');
    } finally {
      await proxy.close();
    }
  });

  it('behavior: a recorded capture read back as a source gives the same decoded transactions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orion-e2e-capture-'));
    try {
      const live = await runLive({ mode: 'full', seed: 15, count: 60, record: dir });
      assertEveryAcceptedTxOnce(live);
      const config = testConfig({
        pipeline: 'live',
        ingest: { sources: [{ kind: 'capture', name: 'replay', path: dir, speed: 'max' }] },
        decoder: { chainId: devnet.anvil.chainId, routers: devnetRouters(devnet.deployment), filter: { enabled: false } },
      });
      const engine = new Engine(config, { pipeline: livePipeline(config, { until: 'decoder' }) });
      const replayed = new Map<string, DecodedTx>();
      engine.onOutput((m) => {
        if (m.kind === Kind.DecodedTx) replayed.set((m.data as DecodedTx).hash, m.data as DecodedTx);
      });
      await engine.start();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && replayed.size < live.decoded.size) await new Promise((r) => setTimeout(r, 50));
      await engine.stop();
      assert.equal(replayed.size, live.decoded.size);
      for (const [hash, [tx]] of live.decoded) {
        const again = replayed.get(hash);
        assert.ok(again, `${hash} replayed`);
        const { firstSeenNs: _a, ...want } = tx!;
        const { firstSeenNs: _b, ...got } = again;
        assert.deepEqual(toJsonValue(got), toJsonValue(want));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
