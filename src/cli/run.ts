import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ROLES, type Role, hashApiKey } from '../gateway/gateway-config.js';
import { type ConfigInput, type EngineConfig, loadConfig, validateConfig } from '../runtime/config.js';
import { fail } from './common.js';
import { runSession } from './session.js';

export const RUN_HELP = `Usage: orion run --config FILE [options]

Runs the engine against the node(s) the config file names (config.ingest.sources; the simulator
and scorer read state from the first rpc-ws source over HTTP unless config.simulator.rpcUrl and
config.scorer.rpcUrl say otherwise), with the searcher gateway on config.gateway.host:port. Runs
until Ctrl-C or SIGTERM, then closes the gateway, drains every stage and prints a summary.

API keys are secrets: give them in ORION_API_KEYS (name:role:key,…; roles viewer, operator,
admin); a config file holds only their SHA-256 (\`orion key\` makes one). Without any key the
gateway answers only /health.

Options:
  --config FILE     JSON config file (required; reference: docs/config.md)
  --port N          Gateway port (overrides config.gateway.port; 0 = a free port)
  --no-gateway      Run without the gateway
  --duration S      Stop after S seconds
  --json            Print the summary as one JSON object on stdout
  -h, --help        Show this help

Environment: ORION_PRIVATE_KEY (the searcher's signing key: without it the submitter runs dry,
building, signing nothing and recording every bundle it would send), ORION_API_KEYS,
ORION_WAIT_STRATEGY, ORION_LOG_LEVEL, ORION_DEAD_LETTER_PATH.
`;

/** `orion run --config FILE`. */
export async function run(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        'no-gateway': { type: 'boolean', default: false },
        duration: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${RUN_HELP}`);
  }
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return;
  }
  if (!values.config) fail(`--config FILE is required (docs/config.md; \`orion demo\` runs without one)\n\n${RUN_HELP}`);
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0)) fail(`--duration must be a positive number of seconds, got ${JSON.stringify(values.duration)}`);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) fail(`--port must be a TCP port (0-65535), got ${JSON.stringify(values.port)}`);
  const gateway = !values['no-gateway'];
  let config: EngineConfig;
  try {
    config = loadConfig({ file: values.config, env: process.env });
    config = validateConfig({ ...config, gateway: { ...config.gateway, enabled: gateway, ...(port !== undefined ? { port } : {}) } } as ConfigInput);
  } catch (err) {
    fail(`invalid configuration: ${(err as Error).message}`);
  }
  if (config.pipeline === 'live' && config.ingest.sources.length === 0) {
    fail(`invalid configuration: config.ingest.sources is empty; add a node, e.g. {"ingest":{"sources":[{"kind":"rpc-ws","name":"node","url":"ws://127.0.0.1:8545","mode":"auto"}]}}`);
  }
  const first = config.ingest.sources[0];
  await runSession({
    mode: config.pipeline === 'synthetic' ? 'synthetic' : 'config',
    config,
    durationSec: duration,
    json: values.json,
    gateway,
    signerKey: process.env.ORION_PRIVATE_KEY ?? null,
    what: first ? `${first.kind} ${first.kind === 'rpc-ws' ? first.url : first.path}${config.ingest.sources.length > 1 ? ` and ${config.ingest.sources.length - 1} more` : ''}` : 'synthetic stages',
    cleanup: async () => {},
  });
}

export const KEY_HELP = `Usage: orion key [--role viewer|operator|admin] [--name NAME]

Makes a random gateway API key (24 random bytes, base64url) and prints it with the two ways to
give it to Orion: the ORION_API_KEYS entry (the key itself; keep it secret) and the config-file
entry (its SHA-256 only, safe to commit).

Options:
  --role R      viewer (stream and status page), operator (also /metrics), admin (also actor
                restarts); default viewer
  --name NAME   Who the key is for (default: the role)
  -h, --help    Show this help
`;

/** `orion key`. */
export function key(argv: string[]): void {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'viewer' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${KEY_HELP}`);
  }
  if (values.help) {
    process.stdout.write(KEY_HELP);
    return;
  }
  if (!(ROLES as readonly string[]).includes(values.role)) fail(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(values.role)}`);
  const role = values.role as Role;
  const name = values.name ?? role;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) fail('--name may use letters, digits, ".", "-" and "_" only');
  const k = randomBytes(24).toString('base64url');
  process.stdout.write(
    `key:        ${k}\n` +
      `env:        ORION_API_KEYS=${name}:${role}:${k}\n` +
      `config:     {"gateway":{"apiKeys":[${JSON.stringify({ name, role, sha256: hashApiKey(k) })}]}}\n`,
  );
}
