import type { Opportunity } from '../../src/actors/scorer/opportunity.js';
import { type ApiKeyEntry, DEFAULT_GATEWAY_CONFIG, type GatewayConfig, hashApiKey } from '../../src/gateway/gateway-config.js';

/** Shared fixtures of the gateway tests: addresses, opportunities, API keys and a config. */

/** A lowercase address ending in `n`. */
export const addr = (n: number): string => `0x${n.toString(16).padStart(40, '0')}`;

export const WETH = addr(0xeee);
export const TOKEN_A = addr(0xa);
export const TOKEN_B = addr(0xb);
export const POOL_1 = addr(0x101);
export const POOL_2 = addr(0x102);
export const POOL_3 = addr(0x103);

let nextId = 1;

/** An opportunity with every field set (a verified WETH→A→WETH backrun through pools 1 and 2, 1e15 wei net); `fields` override. */
export function testOpportunity(fields: Partial<Opportunity> & { netWei?: bigint } = {}): Opportunity {
  const { netWei = 10n ** 15n, ...rest } = fields;
  const id = `0x${(nextId++).toString(16).padStart(64, '0')}`;
  return {
    id,
    kind: 'backrun-arbitrage',
    victimHashes: [`0x${'aa'.repeat(32)}`],
    targetBlock: 101,
    pools: [POOL_1, POOL_2],
    tokenPath: [WETH, TOKEN_A, WETH],
    amountIn: 10n ** 18n,
    profit: { token: WETH, gross: netWei + 1000n, gasCost: 1000n, net: netWei, grossWei: netWei + 1000n, gasCostWei: 1000n, netWei },
    plan: [{ kind: 'victim', hash: `0x${'aa'.repeat(32)}` }],
    timings: { firstSeenNs: 1e15, scoredNs: 1e15 + 5e4, verifiedNs: 1e15 + 9e5 },
    verification: 'verified',
    simulatedNet: netWei,
    rejectReason: null,
    baseFee: 7n,
    gas: [null],
    searcher: addr(0x5ea),
    ...rest,
    // Verified is always a verification's outcome (revision 1); the rest default to when scored
    // (a `rejected` one to rejected at once, which the default filter leaves out).
    revision: rest.revision ?? ((rest.verification ?? 'verified') === 'verified' ? 1 : 0),
  };
}

/** API keys of the tests, one per role plus a second viewer; at least 16 characters each. */
export const KEYS = {
  viewer: 'viewer-key-000000000001',
  viewer2: 'viewer-key-000000000002',
  operator: 'operator-key-0000000001',
  admin: 'admin-key-0000000000001',
} as const;

/** Config entries of {@link KEYS}, named after their property. */
export const KEY_ENTRIES: ApiKeyEntry[] = [
  { name: 'viewer', role: 'viewer', sha256: hashApiKey(KEYS.viewer) },
  { name: 'viewer2', role: 'viewer', sha256: hashApiKey(KEYS.viewer2) },
  { name: 'operator', role: 'operator', sha256: hashApiKey(KEYS.operator) },
  { name: 'admin', role: 'admin', sha256: hashApiKey(KEYS.admin) },
];

/** A gateway config on 127.0.0.1, port 0, with {@link KEY_ENTRIES}; `fields` override. */
export function gatewayConfig(fields: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...DEFAULT_GATEWAY_CONFIG, enabled: true, host: '127.0.0.1', port: 0, apiKeys: KEY_ENTRIES, shutdownGraceMs: 500, ...fields };
}
