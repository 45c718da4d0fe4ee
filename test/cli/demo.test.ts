import assert from 'node:assert/strict';
import type { DemoSummary } from '../../src/cli/demo.js';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c));
    p.stderr.on('data', (c: Buffer) => (stderr += c));
    p.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('orion demo', () => {
  it('default: starts its own devnet, decodes the traffic, stops cleanly and prints a JSON summary', async () => {
    const r = await run(['--duration', '6', '--rate', '40', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as DemoSummary & { traffic: { accepted: number }; txs: NonNullable<DemoSummary['txs']>; opportunities: Record<string, number>; predictedNetProfitWei: string; firstSeenToOpportunityUs: { p50: number } };
    assert.equal(s.mode, 'devnet');
    assert.ok(s.traffic.accepted > 0);
    assert.ok(s.txs.received > 0, r.stderr);
    assert.ok(s.txs.decoded > 0, r.stderr);
    assert.ok(Object.values(s.txs.intents).reduce((a, b) => a + b, 0) > 0, 'swap intents classified');
    assert.equal(s.restarts, 0);
    assert.match(r.stderr, /devnet ready/);
    // The devnet's two V2 venues disagree on price, so its swaps leave backruns to find.
    assert.ok((s.opportunities['backrun-arbitrage'] ?? 0) > 0, `opportunities ${JSON.stringify(s.opportunities)}; ${r.stderr.slice(-2000)}`);
    assert.match(s.predictedNetProfitWei, /^[0-9]+$/);
    assert.ok(BigInt(s.predictedNetProfitWei) > 0n);
    assert.ok(s.firstSeenToOpportunityUs.p50 > 0);
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
