import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyStore, presentedKey, roleAtLeast } from '../../src/gateway/auth.js';
import { DEFAULT_GATEWAY_CONFIG, ROLES, type Role, apiKeysFromEnv, hashApiKey } from '../../src/gateway/gateway-config.js';
import { type ConfigInput, loadConfig, validateConfig } from '../../src/runtime/config.js';
import { KEYS, KEY_ENTRIES } from './fixtures.js';

describe('hashApiKey', () => {
  it('default: lowercase hex SHA-256 of the UTF-8 bytes', () => {
    // FIPS 180-2 test vector.
    assert.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(hashApiKey('é'), hashApiKey(Buffer.from([0xc3, 0xa9]).toString('utf8')));
    assert.match(hashApiKey(KEYS.admin), /^[0-9a-f]{64}$/);
  });
});

describe('roleAtLeast', () => {
  it('default: each role may do what the weaker ones may, and no more', () => {
    const table: Record<Role, Role[]> = { viewer: ['viewer'], operator: ['viewer', 'operator'], admin: ['viewer', 'operator', 'admin'] };
    for (const role of ROLES) for (const needed of ROLES) assert.equal(roleAtLeast(role, needed), table[role].includes(needed), `${role} as ${needed}`);
  });
});

describe('KeyStore', () => {
  const store = new KeyStore(KEY_ENTRIES);

  it('default: a stored key yields its principal', () => {
    assert.equal(store.size, 4);
    assert.deepEqual(store.verify(KEYS.viewer), { name: 'viewer', role: 'viewer' });
    assert.deepEqual(store.verify(KEYS.viewer2), { name: 'viewer2', role: 'viewer' });
    assert.deepEqual(store.verify(KEYS.operator), { name: 'operator', role: 'operator' });
    assert.deepEqual(store.verify(KEYS.admin), { name: 'admin', role: 'admin' });
  });

  it('error: a missing, empty, unknown, altered or oversized key yields null', () => {
    assert.equal(store.verify(null), null);
    assert.equal(store.verify(''), null);
    assert.equal(store.verify('not-a-key-at-all-0000'), null);
    assert.equal(store.verify(`${KEYS.admin} `), null);
    assert.equal(store.verify(KEYS.admin.toUpperCase()), null);
    assert.equal(store.verify(KEYS.admin.slice(0, -1)), null);
    // The stored digest itself is not a key.
    assert.equal(store.verify(hashApiKey(KEYS.admin)), null);
    assert.equal(store.verify('x'.repeat(513)), null);
  });

  it('args: a 512-character key is accepted, 513 is not', () => {
    const long = 'k'.repeat(512);
    const s = new KeyStore([{ name: 'long', role: 'viewer', sha256: hashApiKey(long) }, { name: 'longer', role: 'viewer', sha256: hashApiKey(`${long}k`) }]);
    assert.deepEqual(s.verify(long), { name: 'long', role: 'viewer' });
    assert.equal(s.verify(`${long}k`), null);
  });

  it('behavior: an empty store accepts nothing', () => {
    const s = new KeyStore([]);
    assert.equal(s.size, 0);
    assert.equal(s.verify(KEYS.admin), null);
  });

  it('behavior: two entries with the same digest resolve to the first', () => {
    const s = new KeyStore([KEY_ENTRIES[0]!, { ...KEY_ENTRIES[0]!, name: 'shadow', role: 'admin' }]);
    assert.deepEqual(s.verify(KEYS.viewer), { name: 'viewer', role: 'viewer' });
  });
});

describe('presentedKey', () => {
  it('default: the bearer token of the Authorization header', () => {
    assert.equal(presentedKey(`Bearer ${KEYS.viewer}`, ''), KEYS.viewer);
    assert.equal(presentedKey(`bearer   ${KEYS.viewer}  `, ''), KEYS.viewer);
  });

  it('behavior: ?token= when there is no bearer header; the header wins over the query', () => {
    assert.equal(presentedKey('', `token=${KEYS.viewer}`), KEYS.viewer);
    assert.equal(presentedKey('', `encoding=msgpack&token=${encodeURIComponent('a+b/c=d-0000000000')}`), 'a+b/c=d-0000000000');
    assert.equal(presentedKey(`Bearer ${KEYS.admin}`, `token=${KEYS.viewer}`), KEYS.admin);
    // Not a bearer header: the query still counts.
    assert.equal(presentedKey(`Basic ${KEYS.admin}`, `token=${KEYS.viewer}`), KEYS.viewer);
  });

  it('args: nothing, an empty token or a malformed header is no key', () => {
    assert.equal(presentedKey('', ''), null);
    assert.equal(presentedKey('', 'token='), null);
    assert.equal(presentedKey('', 'encoding=json'), null);
    assert.equal(presentedKey('Bearer', ''), null);
    assert.equal(presentedKey('Bearer a b', ''), null);
    assert.equal(presentedKey(`Basic ${KEYS.admin}`, ''), null);
  });
});

describe('apiKeysFromEnv', () => {
  it('default: name:role:key entries, hashed', () => {
    assert.deepEqual(apiKeysFromEnv(`alice:viewer:${KEYS.viewer},ops:operator:${KEYS.operator}`), [
      { name: 'alice', role: 'viewer', sha256: hashApiKey(KEYS.viewer) },
      { name: 'ops', role: 'operator', sha256: hashApiKey(KEYS.operator) },
    ]);
  });

  it('args: role:key is named after the role; blanks and empty entries are skipped', () => {
    assert.deepEqual(apiKeysFromEnv(` admin:${KEYS.admin} ,, `), [{ name: 'admin', role: 'admin', sha256: hashApiKey(KEYS.admin) }]);
    assert.deepEqual(apiKeysFromEnv(''), []);
    assert.deepEqual(apiKeysFromEnv(' , '), []);
  });

  const bad: [string, string, RegExp][] = [
    ['a bare key', KEYS.admin, /entry 1 must be name:role:key or role:key/],
    ['a key with a colon', `alice:admin:${KEYS.admin}:x`, /entry 1 must be/],
    ['an unknown role', `alice:root:${KEYS.admin}`, /entry 1 has role "root"; roles: viewer, operator, admin/],
    ['a key under 16 characters', `alice:viewer:${KEYS.viewer}, bob:admin:short-key-15chr`, /entry 2: a key must have at least 16 characters/],
  ];
  for (const [what, value, message] of bad) {
    it(`error: ${what} is a TypeError naming the entry, never the key`, () => {
      assert.throws(
        () => apiKeysFromEnv(value),
        (e: unknown) => {
          assert.ok(e instanceof TypeError);
          assert.match(e.message, message);
          assert.ok(!e.message.includes(KEYS.admin) && !e.message.includes('short-key-15chr'), `the message echoes a key: ${e.message}`);
          return true;
        },
      );
    });
  }
});

describe('config.gateway', () => {
  const withGateway = (gateway: Record<string, unknown>) => ({ gateway } as ConfigInput);
  /** Asserts a TypeError/RangeError whose message starts with `path`. */
  const throwsAt = (input: ConfigInput, type: TypeErrorConstructor | RangeErrorConstructor, path: string, also?: RegExp) =>
    assert.throws(
      () => validateConfig(input),
      (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.constructor, type, `${e.constructor.name}: ${e.message}`);
        assert.ok(e.message.startsWith(`${path} `), e.message);
        if (also) assert.match(e.message, also);
        return true;
      },
    );

  it('default: off, 127.0.0.1, port 0, no keys', () => {
    const c = validateConfig();
    assert.deepEqual(c.gateway, DEFAULT_GATEWAY_CONFIG);
    assert.equal(c.gateway.enabled, false);
    assert.equal(c.gateway.host, '127.0.0.1');
    assert.equal(c.gateway.port, 0);
    assert.deepEqual(c.gateway.apiKeys, []);
  });

  it('behavior: hashed keys with names and roles validate', () => {
    const c = validateConfig(withGateway({ enabled: true, apiKeys: KEY_ENTRIES }));
    assert.deepEqual(c.gateway.apiKeys, KEY_ENTRIES);
  });

  it('error: a key itself in the config is refused, pointing at ORION_API_KEYS, without echoing it', () => {
    assert.throws(
      () => validateConfig(withGateway({ apiKeys: [{ name: 'a', role: 'admin', key: KEYS.admin }] })),
      (e: unknown) => e instanceof TypeError && e.message.startsWith('config.gateway.apiKeys[0].key:') && e.message.includes('ORION_API_KEYS') && !e.message.includes(KEYS.admin),
    );
  });

  it('error: malformed key entries name the field', () => {
    const ok = KEY_ENTRIES[0]!;
    throwsAt(withGateway({ apiKeys: {} }), TypeError, 'config.gateway.apiKeys');
    throwsAt(withGateway({ apiKeys: ['x'] }), TypeError, 'config.gateway.apiKeys[0]');
    throwsAt(withGateway({ apiKeys: [{ ...ok, extra: 1 }] }), TypeError, 'config.gateway.apiKeys[0].extra');
    throwsAt(withGateway({ apiKeys: [{ ...ok, name: '' }] }), TypeError, 'config.gateway.apiKeys[0].name');
    throwsAt(withGateway({ apiKeys: [ok, { ...ok, sha256: hashApiKey(KEYS.admin) }] }), TypeError, 'config.gateway.apiKeys[1].name', /used by another key/);
    throwsAt(withGateway({ apiKeys: [{ ...ok, role: 'root' }] }), TypeError, 'config.gateway.apiKeys[0].role');
    throwsAt(withGateway({ apiKeys: [{ ...ok, sha256: ok.sha256.toUpperCase() }] }), TypeError, 'config.gateway.apiKeys[0].sha256');
    throwsAt(withGateway({ apiKeys: [{ ...ok, sha256: ok.sha256.slice(1) }] }), TypeError, 'config.gateway.apiKeys[0].sha256');
  });

  it('error: limits out of range are RangeErrors naming the field', () => {
    const cases: [string, number][] = [
      ['port', 65_536],
      ['maxFrameBytes', 63],
      ['maxBackpressureBytes', 1023],
      ['opsPerSecond', 0],
      ['opsBurst', 0],
      ['maxErrors', 0],
      ['errorWindowMs', 0],
      ['idleTimeoutSec', 7],
      ['statsIntervalMs', 49],
      ['recentOpportunities', 10_001],
      ['shutdownGraceMs', -1],
    ];
    for (const [field, v] of cases) throwsAt(withGateway({ [field]: v }), RangeError, `config.gateway.${field}`);
    throwsAt(withGateway({ opsPerSecond: 1.5 }), TypeError, 'config.gateway.opsPerSecond');
    throwsAt(withGateway({ enabled: 'yes' }), TypeError, 'config.gateway.enabled');
    throwsAt(withGateway({ host: '' }), TypeError, 'config.gateway.host');
  });
});

describe('loadConfig and ORION_API_KEYS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orion-gateway-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('default: keys from the environment are hashed into config.gateway.apiKeys; the keys themselves are nowhere in the config', () => {
    const c = loadConfig({ env: { ORION_API_KEYS: `alice:viewer:${KEYS.viewer},admin:${KEYS.admin}` } });
    assert.deepEqual(c.gateway.apiKeys, [
      { name: 'alice', role: 'viewer', sha256: hashApiKey(KEYS.viewer) },
      { name: 'admin', role: 'admin', sha256: hashApiKey(KEYS.admin) },
    ]);
    const text = JSON.stringify(c);
    assert.ok(!text.includes(KEYS.viewer) && !text.includes(KEYS.admin));
    assert.ok(Object.isFrozen(c.gateway.apiKeys) && Object.isFrozen(c.gateway.apiKeys[0]));
  });

  it('behavior: environment keys join the file’s hashed keys, and overrides do not drop them', () => {
    const file = join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ gateway: { enabled: true, apiKeys: [KEY_ENTRIES[2]] } }));
    const c = loadConfig({ file, env: { ORION_API_KEYS: `root:admin:${KEYS.admin}` }, overrides: { gateway: { maxErrors: 3 } } });
    assert.deepEqual(c.gateway.apiKeys, [KEY_ENTRIES[2], { name: 'root', role: 'admin', sha256: hashApiKey(KEYS.admin) }]);
    assert.equal(c.gateway.enabled, true);
    assert.equal(c.gateway.maxErrors, 3);
    // An empty variable adds nothing.
    assert.deepEqual(loadConfig({ file, env: { ORION_API_KEYS: '' } }).gateway.apiKeys, [KEY_ENTRIES[2]]);
  });

  it('error: a name used in both the file and the environment is refused', () => {
    const file = join(dir, 'dup.json');
    writeFileSync(file, JSON.stringify({ gateway: { apiKeys: [KEY_ENTRIES[0]] } }));
    assert.throws(() => loadConfig({ file, env: { ORION_API_KEYS: `viewer:admin:${KEYS.admin}` } }), /^TypeError: config\.gateway\.apiKeys\[1\]\.name "viewer" is used by another key/);
  });

  it('error: a malformed ORION_API_KEYS fails the load without echoing the key', () => {
    assert.throws(
      () => loadConfig({ env: { ORION_API_KEYS: `alice:superuser:${KEYS.admin}` } }),
      (e: unknown) => e instanceof TypeError && /ORION_API_KEYS entry 1 has role "superuser"/.test(e.message) && !e.message.includes(KEYS.admin),
    );
  });
});
