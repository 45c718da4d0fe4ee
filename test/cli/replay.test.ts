import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ReplayReport } from '../../src/replay/replay.js';
import { runCli } from '../support/cli.js';

/** The sample capture kept in the repo (samples/README.md). */
const SAMPLE = fileURLToPath(new URL('../../../samples/devnet-capture', import.meta.url));

const cli = (args: string[]) => runCli(args);

describe('orion replay on the sample capture', { timeout: 120_000 }, () => {
  it('default: replays the sample with no node and reproduces the digest of the run that recorded it', async () => {
    const r = await cli(['replay', SAMPLE, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ReplayReport;
    const live = JSON.parse(readFileSync(`${SAMPLE}/live.json`, 'utf8')) as { digest: string; txs: number };
    assert.equal(report.digest, live.digest);
    assert.deepEqual(report.live, { digest: live.digest, matches: true });
    assert.equal(report.txs, live.txs);
    assert.match(report.digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(Object.values(report.opportunities).reduce((a, b) => a + b, 0) > 0);
    assert.ok(report.wallSeconds > 0 && report.txPerSecond > 0);
    assert.ok(report.topOpportunities.length > 0);
    assert.ok(report.backtest !== null && report.backtest.considered > 0);
    assert.match(r.stderr, /same as the capture run/);
  });

  it('default: the example script (scripts/replay-example.mjs) runs the library API from a plain Node script', async () => {
    const script = fileURLToPath(new URL('../../../scripts/replay-example.mjs', import.meta.url));
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => (stdout += c));
      p.stderr.on('data', (c: Buffer) => (stderr += c));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(r.status, 0, r.stderr);
    const live = JSON.parse(readFileSync(`${SAMPLE}/live.json`, 'utf8')) as { digest: string };
    assert.match(r.stdout, /^as recorded: \{/m);
    assert.ok(r.stdout.includes(`digest ${live.digest}`), r.stdout);
    assert.match(r.stdout, /no verification: .*hit rate/s);
  });

  it('args: a bad speed, an unknown flag or a missing capture are usage errors with the help; a path that is not a capture fails', async () => {
    const speed = await cli(['replay', SAMPLE, '--speed', 'fast']);
    assert.equal(speed.status, 2);
    assert.match(speed.stderr, /--speed must be max, 1x or Nx/);
    const flag = await cli(['replay', SAMPLE, '--bogus']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /Usage: orion replay/);
    const none = await cli(['replay']);
    assert.equal(none.status, 2);
    const notCapture = await cli(['replay', fileURLToPath(new URL('.', import.meta.url))]);
    assert.equal(notCapture.status, 1);
    assert.match(notCapture.stderr, /no capture segments/);
  });

  it('args: capture refuses a directory that already holds a capture, and needs one source', async () => {
    const again = await cli(['capture', '--devnet', '--out', SAMPLE]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds a capture/);
    const both = await cli(['capture', '--out', '/tmp/x', '--devnet', '--rpc', 'ws://127.0.0.1:1']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /exactly one of --rpc/);
  });
});
