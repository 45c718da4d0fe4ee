import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type Devnet, startDevnet } from '../devnet/devnet.js';
import { devnetEngineConfig } from '../devnet/engine-config.js';
import type { TrafficRun } from '../devnet/traffic.js';
import { hashApiKey } from '../gateway/gateway-config.js';
import { type ConfigInput, type EngineConfig, loadConfig, validateConfig } from '../runtime/config.js';
import { fail } from './common.js';
import { type RunSummary, runSession } from './session.js';

export const DEMO_HELP = `Usage: orion demo [options]

The one-command demo. Starts a local devnet (anvil from npm on 127.0.0.1, Uniswap V2 ×2 and V3
deployed from the npm artifacts), sends it a realistic transaction mix, and runs all five stages
against it: ingest subscribes to the node's pending transactions; the decoder decodes every type,
recovers senders and classifies swaps; the simulator runs what the decoder could not classify in
the EVM; the scorer finds V2 sandwiches and backrun arbitrages (V2 and V3) and verifies the best as
bundles in the EVM from the devnet's searcher account; the submitter signs the verified ones with
that account's key and sends them through the private-RPC route to anvil, then records whether they
landed and what they realized (ledger: .orion/ledger.jsonl). The searcher gateway serves it all on
127.0.0.1: it prints its URL and an API key.

One progress line per second on stderr (txs/s, opportunities by kind, p99 first seen →
opportunity); Ctrl-C (or --duration) stops the traffic, closes the gateway, drains every stage
and prints a summary.

Options:
  --port N          Gateway port (default: a free port, printed)
  --api-key KEY     Gateway API key, role admin (default: a random key, printed; ≥ 16 characters)
  --rate N          Devnet transactions per second (default 50)
  --duration S      Stop after S seconds and print a summary (default: until Ctrl-C)
  --json            Print the summary as one JSON object on stdout: txs, opportunities by kind,
                    latencyUs per stage {p50,p99} and firstSeenToOpportunity, predictedNetProfitWei, …
  --seed N          Traffic seed (default 1)
  --rpc URL         Use this node (ws:// or wss://) instead of starting a devnet; no traffic is sent
  --record DIR      Record what ingest receives to a capture in DIR (docs/capture-format.md)
  --synthetic       Run the synthetic runtime pipeline instead (no node; --rate is records/s,
                    default 1000; --record-bytes N sets the payload size)
  --config FILE     JSON config file (docs/config.md); flags override it
  -h, --help        Show this help

Try, while it runs:
  websocat -H 'Authorization: Bearer KEY' ws://127.0.0.1:PORT/v1/stream
    then send {"op":"subscribe","id":1,"topics":["opportunities"]}
  curl -H 'Authorization: Bearer KEY' http://127.0.0.1:PORT/metrics
  open http://127.0.0.1:PORT/?token=KEY (status page)

Environment (read once at start): ORION_PRIVATE_KEY (with --rpc: the searcher's key; without it
the submitter runs dry), ORION_API_KEYS (more gateway keys, name:role:key,…),
ORION_WAIT_STRATEGY, ORION_LOG_LEVEL, ORION_DEAD_LETTER_PATH, ORION_ANVIL_BIN (an anvil binary
other than the npm one).
`;

/** The summary `orion demo --json` prints. */
export type DemoSummary = RunSummary;

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${flag} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** `orion demo`. */
export async function demo(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rate: { type: 'string' },
        duration: { type: 'string' },
        rpc: { type: 'string' },
        record: { type: 'string' },
        synthetic: { type: 'boolean', default: false },
        'record-bytes': { type: 'string' },
        port: { type: 'string' },
        'api-key': { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean', default: false },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${DEMO_HELP}`);
  }
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return;
  }
  const rate = num('rate', values.rate);
  const duration = num('duration', values.duration);
  const seed = num('seed', values.seed) ?? 1;
  if (values.synthetic && (values.rpc || values.record)) fail('--synthetic runs without a node: it takes neither --rpc nor --record');
  if (values.rpc && !/^wss?:\/\//.test(values.rpc)) fail(`--rpc must be a ws:// or wss:// URL, got ${JSON.stringify(values.rpc)}`);
  const mode: DemoSummary['mode'] = values.synthetic ? 'synthetic' : values.rpc ? 'rpc' : 'devnet';
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const port = num('port', values.port);
  if (port !== undefined && (!Number.isInteger(port) || port > 65_535)) fail(`--port must be a TCP port (0-65535), got ${JSON.stringify(values.port)}`);
  const apiKey = values['api-key'] ?? randomBytes(18).toString('base64url');
  if (apiKey.length < 16 || /[\s,:]/.test(apiKey)) fail('--api-key must have at least 16 characters and no spaces, commas or colons');

  let devnet: Devnet | null = null;
  let traffic: TrafficRun | null = null;
  // A node of your own (--rpc) sends only with ORION_PRIVATE_KEY; without, the submitter runs dry.
  let signerKey: string | null = process.env.ORION_PRIVATE_KEY ?? null;
  const overrides: ConfigInput = {};
  // The demo key joins the keys of the config file and ORION_API_KEYS (hashed; the key itself is only printed).
  const gatewayFor = (c: EngineConfig): ConfigInput['gateway'] => ({
    enabled: true,
    ...(port !== undefined ? { port } : {}),
    apiKeys: [...c.gateway.apiKeys.filter((k) => k.name !== 'demo'), { name: 'demo', role: 'admin', sha256: hashApiKey(apiKey) }],
  });
  if (mode === 'synthetic') {
    overrides.pipeline = 'synthetic';
    overrides.synthetic = {};
    if (rate !== undefined) overrides.synthetic.rate = Math.round(rate);
    const recordBytes = num('record-bytes', values['record-bytes']);
    if (recordBytes !== undefined) overrides.synthetic.recordBytes = Math.round(recordBytes);
  }
  let config: EngineConfig;
  try {
    config = loadConfig({ file: values.config, overrides, env: process.env });
  } catch (err) {
    fail(`invalid configuration: ${(err as Error).message}`);
  }

  const cleanup = async () => {
    await traffic?.stop().catch(() => {});
    await devnet?.stop().catch(() => {});
  };
  if (mode !== 'synthetic') {
    let url = values.rpc;
    let routers = config.decoder.routers;
    let chainId = config.decoder.chainId;
    if (mode === 'devnet') {
      log('orion demo: starting a devnet (anvil, prague, 1 s blocks) and deploying Uniswap V2 ×2 and V3…');
      const t0 = performance.now();
      devnet = await startDevnet({ blockTime: 1, seed });
      try {
        const { anvil, deployment } = devnet;
        url = anvil.wsUrl;
        const dc = devnetEngineConfig(devnet);
        routers = [...routers, ...(dc.decoder!.routers as typeof routers)];
        chainId = anvil.chainId;
        // The submitter signs with the devnet's searcher key and sends through the private-RPC
        // route to anvil, so the demo shows real inclusion and realized profit.
        signerKey = devnet.searcherKey;
        Object.assign(overrides, {
          simulator: { ...dc.simulator, ...overrides.simulator },
          scorer: { ...dc.scorer, ...overrides.scorer },
          submitter: { strategy: 'private-rpc', privateRpc: { url: anvil.rpcUrl, method: 'eth_sendRawTransaction' }, ...overrides.submitter },
        });
        log(`devnet ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${anvil.rpcUrl} (pid ${anvil.pid}), ${deployment.tokens.length} tokens, ${deployment.v2.reduce((n, v) => n + v.pairs.length, 0)} V2 pairs on ${deployment.v2.length} factories, ${deployment.v3?.pools.length ?? 0} V3 pools`);
        traffic = devnet.traffic({ rate: rate ?? 50, keepRecords: false });
      } catch (err) {
        await cleanup();
        throw err;
      }
    }
    try {
      config = loadConfig({
        file: values.config,
        env: process.env,
        overrides: {
          ...overrides,
          pipeline: 'live',
          ingest: {
            sources: [{ kind: 'rpc-ws', name: mode === 'devnet' ? 'devnet' : 'node', url: url!, mode: 'auto' }],
            ...(values.record ? { record: { dir: values.record, segmentBytes: 64 << 20, retainBytes: 1 << 30 } } : {}),
          },
          decoder: { routers, chainId },
        },
      });
    } catch (err) {
      await cleanup();
      fail(`invalid configuration: ${(err as Error).message}`);
    }
  }

  config = validateConfig({ ...config, gateway: { ...config.gateway, ...gatewayFor(config) } } as ConfigInput);
  const what = mode === 'synthetic' ? `synthetic stages, ${config.synthetic.rate || 'max'} records/s` : mode === 'devnet' ? `devnet traffic ${rate ?? 50} tx/s` : `node ${values.rpc}`;
  await runSession({
    mode,
    config,
    durationSec: duration,
    json: values.json,
    gateway: true,
    signerKey,
    showKey: { key: apiKey, role: 'admin' },
    what,
    onStarted: async () => {
      await traffic?.ready;
    },
    onStopping: async () => {
      const r = await traffic?.stop();
      return r ? { sent: r.sent, accepted: r.accepted, achievedRate: Math.round(r.achievedRate * 10) / 10 } : undefined;
    },
    cleanup,
  });
}
