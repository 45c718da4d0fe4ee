import assert from 'node:assert/strict';
import type { DemoSummary } from '../../src/cli/demo.js';
import { describe, it } from 'node:test';
import { type CliRun, runCli } from '../support/cli.js';

function run(args: string[], onStderr?: (text: string) => void): Promise<CliRun> {
  return runCli(['demo', ...args], onStderr ? { onStderr } : {});
}

describe('orion demo', () => {
  it('default: starts its own devnet and gateway, finds opportunities of two kinds, stops cleanly and prints a JSON summary', async () => {
    // While it runs, the gateway it printed answers with the key it printed.
    let probed: Promise<{ health: number; metrics: number; unauthorized: number }> | null = null;
    const r = await run(['--duration', '20', '--json'], (text) => {
      const url = /gateway: (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const key = /API key \(role admin\): (\S+)/.exec(text)?.[1];
      if (probed === null && url && key) {
        probed = (async () => {
          // Healthy once ingest has reported its node connection (its first metrics snapshot).
          let health = 0;
          for (let i = 0; i < 50 && health !== 200; i++) {
            health = (await fetch(`${url}/health`)).status;
            if (health !== 200) await new Promise((res) => setTimeout(res, 200));
          }
          const metrics = (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status;
          const unauthorized = (await fetch(`${url}/metrics`)).status;
          return { health, metrics, unauthorized };
        })();
      }
    });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as DemoSummary & { traffic: { accepted: number }; decoder: NonNullable<DemoSummary['decoder']> };
    assert.equal(s.mode, 'devnet');
    assert.ok(s.traffic.accepted > 0);
    assert.ok(s.txs > 0, r.stderr);
    assert.ok(s.decoder.decoded > 0, r.stderr);
    assert.ok(Object.values(s.decoder.intents).reduce((a, b) => a + b, 0) > 0, 'swap intents classified');
    assert.equal(s.restarts, 0);
    assert.match(r.stderr, /devnet ready/);
    // The devnet's venues disagree on price and its traders swap with slippage: sandwiches and backruns.
    const kinds = Object.entries(s.opportunities).filter(([, n]) => n > 0);
    assert.ok(kinds.length >= 2, `opportunities ${JSON.stringify(s.opportunities)}; ${r.stderr.slice(-2000)}`);
    assert.match(s.predictedNetProfitWei, /^[0-9]+$/);
    assert.ok(BigInt(s.predictedNetProfitWei) > 0n);
    for (const stage of ['ingest', 'decoder', 'simulator', 'scorer', 'submitter', 'firstSeenToOpportunity']) {
      assert.ok(s.latencyUs[stage] && typeof s.latencyUs[stage].p50 === 'number' && typeof s.latencyUs[stage].p99 === 'number', `latencyUs.${stage}`);
    }
    assert.ok(s.latencyUs.firstSeenToOpportunity!.p50 > 0);
    // The submitter signed with the devnet key and sent on the private RPC: every verified
    // opportunity became a submission record, and what landed has a realized profit.
    const sub = s.submissions!;
    for (const k of ['sent', 'included', 'missed', 'reverted'] as const) assert.equal(typeof sub[k], 'number', k);
    assert.ok(sub.sent + sub.skipped + sub.failed > 0, `submissions ${JSON.stringify(sub)}`);
    assert.equal(sub.dryRun, 0, 'the demo sends');
    assert.match(s.realizedNetProfitWei!, /^-?[0-9]+$/);
    assert.match(s.predictedNetProfitOfIncludedWei!, /^[0-9]+$/);
    assert.ok(probed !== null, `the demo printed its gateway URL and key: ${r.stderr.slice(0, 2000)}`);
    assert.deepEqual(await probed, { health: 200, metrics: 200, unauthorized: 401 });
  });

  it('args: --synthetic runs the runtime pipeline without a node', async () => {
    const r = await run(['--synthetic', '--duration', '2', '--rate', '2000', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { mode: string; records: number };
    assert.equal(s.mode, 'synthetic');
    assert.ok(s.records > 1000);
  });

  it('error: bad flags exit 2 with a message', async () => {
    const r = await run(['--rpc', 'http://x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--rpc must be a ws:\/\/ or wss:\/\/ URL/);
    const u = await run(['--bogus']);
    assert.equal(u.status, 2);
  });
});
