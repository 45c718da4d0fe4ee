import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { readControl } from '../../src/actors/submitter/control.js';
import { Engine } from '../../src/engine.js';
import { engineExposition } from '../../src/gateway/prometheus.js';
import { Kind } from '../../src/messages/schema.js';
import { validateConfig } from '../../src/runtime/config.js';
import { stringifyBig } from './big-json.js';

/**
 * An engine in a child process, for tests that need its whole stderr (every thread's log lines):
 * `node engine-child.js <config.json> <out-prefix>` with the keys in `ORION_PRIVATE_KEY` and
 * `ORION_RELAY_AUTH_KEY`, read once and removed from the environment, as the CLI reads them.
 * Prints `{"ready":true}`, then one line per Opportunity, Submission and BlockEvent it outputs
 * ({@link stringifyBig}). On the stdin line `stop` it stops gracefully, writes `<out-prefix>.prom`
 * (the Prometheus exposition) and `<out-prefix>.stats.json` (engine stats) and exits 0.
 */

const [configPath, outPrefix] = process.argv.slice(2) as [string, string];
const signerKey = process.env.ORION_PRIVATE_KEY ?? null;
const relayAuthKey = process.env.ORION_RELAY_AUTH_KEY ?? null;
delete process.env.ORION_PRIVATE_KEY;
delete process.env.ORION_RELAY_AUTH_KEY;

const config = validateConfig(JSON.parse(readFileSync(configPath, 'utf8')));
const engine = new Engine(config, { signerKey, relayAuthKey });
const out: Record<string, number> = {};
engine.onOutput((m) => {
  if (m.kind === Kind.Opportunity) {
    const o = m.data as { kind: string; verification: string };
    out[`${o.kind}/${o.verification}`] = (out[`${o.kind}/${o.verification}`] ?? 0) + 1;
  }
  if (m.kind === Kind.Opportunity || m.kind === Kind.Submission || m.kind === Kind.BlockEvent) process.stdout.write(`${stringifyBig({ kind: m.kind, data: m.data })}\n`);
});
engine.failed().catch((err: unknown) => {
  process.stderr.write(`engine failed: ${(err as Error).message}\n`);
  process.exit(1);
});
await engine.start();
process.stdout.write('{"ready":true}\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stop') continue;
  // After the stop: every stage's last metrics snapshot is in.
  await engine.stop();
  const stats = engine.stats();
  const figures = { clients: 0, clientsByEncoding: {}, framesSent: {}, framesDropped: 0, backpressureCuts: 0, errorFrames: {}, refused: {}, tapDrops: 0, headBlock: null };
  writeFileSync(`${outPrefix}.prom`, engineExposition(stats, figures, { secp256k1Native: null, opportunitiesOut: out, submitter: readControl(engine.control) }));
  writeFileSync(`${outPrefix}.stats.json`, stringifyBig(stats));
  process.exit(0);
}
