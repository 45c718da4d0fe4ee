import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../../src/cli/session.js';
import { type Devnet, startDevnet } from '../../src/devnet/devnet.js';
import { devnetEngineConfig } from '../../src/devnet/engine-config.js';
import type { TrafficRun } from '../../src/devnet/traffic.js';
import { hashApiKey } from '../../src/gateway/gateway-config.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

describe('orion run and orion key', () => {
  let net: Devnet;
  let traffic: TrafficRun;
  let dir: string;

  before(async () => {
    net = await startDevnet({ blockTime: 1 });
    traffic = net.traffic({ rate: 30, keepRecords: false });
    await traffic.ready;
    dir = mkdtempSync(join(tmpdir(), 'orion-run-'));
  });

  after(async () => {
    await traffic?.stop();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('run: serves the node a config file names, with keys from ORION_API_KEYS, and prints a JSON summary', async () => {
    const file = join(dir, 'orion.json');
    const operator = 'operator-key-0123456789';
    writeFileSync(file, JSON.stringify({ ...devnetEngineConfig(net), gateway: { apiKeys: [{ name: 'ops', role: 'operator', sha256: hashApiKey(operator) }] } }));
    const viewer = 'viewer-key-0123456789';
    const p = spawn(process.execPath, [CLI, 'run', '--config', file, '--duration', '6', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ORION_API_KEYS: `alice:viewer:${viewer}` } });
    let stdout = '';
    let stderr = '';
    let probe: Promise<number[]> | null = null;
    p.stdout.on('data', (c: Buffer) => (stdout += c));
    p.stderr.on('data', (c: Buffer) => {
      stderr += c;
      const url = /gateway: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      if (url && probe === null) {
        probe = Promise.all([
          fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operator}` } }).then((r) => r.status), // file key, operator
          fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.status), // env key, viewer: role too weak
          fetch(`${url}/v1/status?token=${viewer}`).then((r) => r.status),
        ]);
      }
    });
    const status = await new Promise<number | null>((res) => p.on('exit', res));
    assert.equal(status, 0, stderr);
    assert.ok(probe !== null, stderr);
    assert.deepEqual(await probe, [200, 403, 200]);
    const s = JSON.parse(stdout) as RunSummary;
    assert.equal(s.mode, 'config');
    assert.ok(s.txs > 0, stderr);
    assert.equal(s.restarts, 0);
    assert.ok(s.gateway !== undefined && s.gateway.url.startsWith('http://127.0.0.1:'));
    // Keys never reach the output.
    assert.ok(!stderr.includes(operator) && !stderr.includes(viewer) && !stdout.includes(viewer));
  });

  it('run: a config without a node, a key in the file, or no --config are refused with the reason', () => {
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{}');
    const r1 = spawnSync(process.execPath, [CLI, 'run', '--config', empty], { encoding: 'utf8' });
    assert.equal(r1.status, 2);
    assert.match(r1.stderr, /config\.ingest\.sources is empty/);
    const withKey = join(dir, 'key.json');
    writeFileSync(withKey, JSON.stringify({ gateway: { apiKeys: [{ name: 'a', role: 'viewer', key: 'secret-secret-secret' }] } }));
    const r2 = spawnSync(process.execPath, [CLI, 'run', '--config', withKey], { encoding: 'utf8' });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /apiKeys\[0\]\.key: a config file holds only a key's sha256/);
    assert.ok(!r2.stderr.includes('secret-secret-secret'));
    const r3 = spawnSync(process.execPath, [CLI, 'run'], { encoding: 'utf8' });
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /--config FILE is required/);
    const r4 = spawnSync(process.execPath, [CLI, 'run', '--config', empty], { encoding: 'utf8', env: { ...process.env, ORION_API_KEYS: 'alice:root:0123456789abcdef' } });
    assert.equal(r4.status, 2);
    assert.match(r4.stderr, /ORION_API_KEYS entry 1 has role "root"/);
  });

  it('key: prints a new key with its env entry and a config entry holding only its SHA-256', () => {
    const r = spawnSync(process.execPath, [CLI, 'key', '--role', 'operator', '--name', 'grafana'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const key = /^key:\s+(\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(key && key.length >= 32);
    assert.match(r.stdout, new RegExp(`ORION_API_KEYS=grafana:operator:${key}`));
    const entry = JSON.parse(/^config:\s+(.+)$/m.exec(r.stdout)![1]!) as { gateway: { apiKeys: { name: string; role: string; sha256: string }[] } };
    assert.deepEqual(entry.gateway.apiKeys, [{ name: 'grafana', role: 'operator', sha256: hashApiKey(key) }]);
    const again = spawnSync(process.execPath, [CLI, 'key'], { encoding: 'utf8' });
    assert.notEqual(/^key:\s+(\S+)$/m.exec(again.stdout)?.[1], key);
    assert.equal(spawnSync(process.execPath, [CLI, 'key', '--role', 'root'], { encoding: 'utf8' }).status, 2);
  });

  it('help: the top-level help lists every command, and each has its own', () => {
    const top = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.equal(top.status, 0);
    for (const cmd of ['demo', 'run', 'key', 'decode']) assert.match(top.stdout, new RegExp(`^  ${cmd} `, 'm'));
    for (const cmd of ['demo', 'run', 'key', 'decode']) {
      const h = spawnSync(process.execPath, [CLI, 'help', cmd], { encoding: 'utf8' });
      assert.match(h.stdout, new RegExp(`^Usage: orion ${cmd}`), cmd);
      const h2 = spawnSync(process.execPath, [CLI, cmd, '--help'], { encoding: 'utf8' });
      assert.equal(h2.stdout, h.stdout);
    }
  });
});
