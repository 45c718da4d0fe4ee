import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { type Hex, keccak256, parseTransaction, recoverMessageAddress, recoverTransactionAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type Eip1559Tx, NativeSigner, signerBackend, signerBindingError, signerFromEnv } from '../../../src/actors/submitter/signer.js';
import { mulberry32 } from '../../support/prng.js';

const KEYS: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', // anvil account 0
  '0x0000000000000000000000000000000000000000000000000000000000000001',
  '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140', // n − 1
  '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318',
];

const TO: Hex = '0x7a250d5630b4cf539739df2c5dacb4c659f2488d';

function hexOf(rng: () => number, bytes: number): Hex {
  let s = '0x';
  for (let i = 0; i < bytes; i++) s += Math.floor(rng() * 256).toString(16).padStart(2, '0');
  return s as Hex;
}

function randomTx(rng: () => number): Eip1559Tx {
  const big = (bits: number) => BigInt(hexOf(rng, Math.ceil(bits / 8))) >> BigInt((8 - (bits % 8)) % 8);
  return {
    chainId: [1, 5, 31337, 11155111][Math.floor(rng() * 4)]!,
    nonce: rng() < 0.2 ? 0n : big(Math.floor(rng() * 40) + 1),
    to: hexOf(rng, 20),
    data: rng() < 0.2 ? '0x' : hexOf(rng, Math.floor(rng() * 600)),
    value: rng() < 0.3 ? 0n : big(Math.floor(rng() * 120) + 1),
    gas: 21_000n + big(24),
    maxFeePerGas: 10n ** 9n + big(Math.floor(rng() * 100) + 1),
    maxPriorityFeePerGas: rng() < 0.2 ? 0n : big(Math.floor(rng() * 30) + 1),
  };
}

/** What viem's account signs for the same transaction. */
function viemTx(tx: Eip1559Tx) {
  return { ...tx, nonce: Number(tx.nonce), type: 'eip1559' as const, accessList: [] };
}

/** Every hex window of `key`'s digits at least 8 long, that a leak would contain. */
function assertNoKey(text: string, key: string): void {
  const digits = key.replace(/^0x/i, '').toLowerCase();
  const hay = text.toLowerCase();
  for (let i = 0; i + 8 <= digits.length; i++) assert.ok(!hay.includes(digits.slice(i, i + 8)), `key material at digit ${i} leaked into: ${text}`);
}

describe('signer', () => {
  it('default: the native libsecp256k1 binding is loaded on this platform', () => {
    assert.equal(signerBackend(), 'native', `native binding failed: ${signerBindingError()}`);
    assert.equal(signerBindingError(), null);
    assert.equal(NativeSigner.fromHex(KEYS[0]!).backend, 'native');
    assert.equal(NativeSigner.fromHex(KEYS[0]!, { backend: 'js' }).backend, 'js');
  });

  it('default: address is the lowercase address viem derives', () => {
    for (const k of KEYS) assert.equal(NativeSigner.fromHex(k).address, privateKeyToAccount(k).address.toLowerCase());
    assert.equal(NativeSigner.fromHex(KEYS[0]!).address, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
  });

  it('behavior: signTx equals viem signTransaction byte for byte (value, long data, large fees), both backends', async () => {
    const rng = mulberry32(6);
    for (let i = 0; i < 120; i++) {
      const key = KEYS[i % KEYS.length]!;
      const tx = randomTx(rng);
      const expected = await privateKeyToAccount(key).signTransaction(viemTx(tx));
      const nat = NativeSigner.fromHex(key).signTx(tx);
      const js = NativeSigner.fromHex(key, { backend: 'js' }).signTx(tx);
      assert.equal(nat.raw, expected, `tx ${i}`);
      assert.deepEqual(js, nat, `tx ${i}: js backend`);
      assert.equal(nat.hash, keccak256(expected));
      assert.equal(nat.nonce, tx.nonce);
      assert.equal(nat.from, privateKeyToAccount(key).address.toLowerCase());
    }
  });

  it('behavior: edge fields — nonce 0, zero value and tip, empty data, 2^256 − 1 fees and value, 24 KiB data', async () => {
    const max = 2n ** 256n - 1n;
    const rng = mulberry32(7);
    const cases: Eip1559Tx[] = [
      { chainId: 1, nonce: 0n, to: TO, data: '0x', value: 0n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n },
      { chainId: 1, nonce: 2n ** 53n - 1n, to: TO, data: '0x00', value: max, gas: 30_000_000n, maxFeePerGas: max, maxPriorityFeePerGas: max },
      { chainId: 31337, nonce: 7n, to: TO, data: hexOf(rng, 24 * 1024), value: 10n ** 18n, gas: 5_000_000n, maxFeePerGas: 300n * 10n ** 9n, maxPriorityFeePerGas: 2n * 10n ** 9n, accessList: [] },
    ];
    for (const [i, tx] of cases.entries()) {
      const expected = await privateKeyToAccount(KEYS[0]!).signTransaction(viemTx(tx));
      assert.equal(NativeSigner.fromHex(KEYS[0]!).signTx(tx).raw, expected, `case ${i}`);
      assert.equal(NativeSigner.fromHex(KEYS[0]!, { backend: 'js' }).signTx(tx).raw, expected, `case ${i} js`);
    }
  });

  it('behavior: signatures with a leading zero byte in r or in s serialize as viem\'s (trimmed), both backends', async () => {
    const signer = NativeSigner.fromHex(KEYS[0]!);
    const js = NativeSigner.fromHex(KEYS[0]!, { backend: 'js' });
    const small = 2n ** 248n;
    const found = { r: false, s: false };
    for (let nonce = 0n; nonce < 5000n && !(found.r && found.s); nonce++) {
      const tx: Eip1559Tx = { chainId: 1, nonce, to: TO, data: '0x', value: 0n, gas: 21_000n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 0n };
      const signed = signer.signTx(tx);
      const parsed = parseTransaction(signed.raw);
      const which = BigInt(parsed.r!) < small ? 'r' : BigInt(parsed.s!) < small ? 's' : null;
      if (which === null || found[which]) continue;
      found[which] = true;
      assert.equal(signed.raw, await privateKeyToAccount(KEYS[0]!).signTransaction(viemTx(tx)), `nonce ${nonce}, short ${which}`);
      assert.equal(js.signTx(tx).raw, signed.raw);
    }
    assert.deepEqual(found, { r: true, s: true });
  });

  it('behavior: the signed transaction parses as type 2 with a low-s signature and recovers the signer', async () => {
    const signer = NativeSigner.fromHex(KEYS[3]!);
    const half = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
    const rng = mulberry32(8);
    for (let i = 0; i < 20; i++) {
      const signed = signer.signTx(randomTx(rng));
      const parsed = parseTransaction(signed.raw);
      assert.equal(parsed.type, 'eip1559');
      assert.ok(BigInt(parsed.s!) <= half, 'low-s');
      assert.ok(parsed.yParity === 0 || parsed.yParity === 1);
      assert.equal((await recoverTransactionAddress({ serializedTransaction: signed.raw as never })).toLowerCase(), signer.address);
    }
  });

  it('behavior: signMessage equals viem signMessage (ASCII, empty, UTF-8, long), v 27/28, both backends', async () => {
    const messages = ['hello', '', 'Orion ✓ — ünïcödé 🚀', 'x'.repeat(5000), 'line\nbreak\x00nul', '0xdeadbeef'];
    let vs = new Set<string>();
    for (const k of KEYS) {
      const account = privateKeyToAccount(k);
      const nat = NativeSigner.fromHex(k);
      const js = NativeSigner.fromHex(k, { backend: 'js' });
      for (const m of messages) {
        const expected = await account.signMessage({ message: m });
        const got = nat.signMessage(m);
        assert.equal(got, expected, `message ${JSON.stringify(m.slice(0, 20))}`);
        assert.equal(js.signMessage(m), expected);
        assert.equal(got.length, 2 + 130);
        vs.add(got.slice(-2));
        assert.equal((await recoverMessageAddress({ message: m, signature: got })).toLowerCase(), nat.address);
      }
    }
    vs = new Set([...vs].sort());
    assert.deepEqual([...vs], ['1b', '1c'], 'both v values occur across these signatures');
  });

  it('behavior: no key material in JSON.stringify, util.inspect, String, template literals or own properties', () => {
    for (const k of KEYS.slice(0, 2).concat(KEYS[3]!)) {
      for (const backend of ['native', 'js'] as const) {
        const signer = NativeSigner.fromHex(k, { backend });
        const shown = [
          JSON.stringify(signer),
          JSON.stringify({ nested: { signer } }),
          inspect(signer),
          inspect(signer, { showHidden: true, depth: Infinity, getters: true }),
          inspect({ deep: [signer] }, { showHidden: true, depth: Infinity }),
          String(signer),
          `${signer}`,
          JSON.stringify(Object.getOwnPropertyNames(signer).map((p) => [p, String((signer as unknown as Record<string, unknown>)[p])])),
          JSON.stringify(structuredClone({ ...signer })),
        ];
        for (const text of shown) {
          if (k !== KEYS[1]) assertNoKey(text, k);
          assert.ok(text.includes(signer.address), text);
        }
        assert.deepEqual(JSON.parse(JSON.stringify(signer)), { address: signer.address });
        assert.deepEqual(Object.keys(signer), ['address']);
      }
    }
  });

  it('error: malformed keys throw a TypeError that quotes none of the input', () => {
    const good = KEYS[0]!.slice(2);
    const bad: unknown[] = [
      '',
      '0x',
      good.slice(0, 62), // 31 bytes
      `${good}00`, // 33 bytes
      `0x${good.slice(0, 63)}g`, // a non-hex digit
      `${good.slice(0, 32)} ${good.slice(32, 63)}`, // inner space
      `0x${'00'.repeat(32)}`, // zero
      '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', // n
      `0x${'ff'.repeat(32)}`, // above n
      null,
      42,
      Buffer.from(good, 'hex'),
    ];
    for (const input of bad) {
      for (const backend of ['native', 'js'] as const) {
        let thrown: unknown = null;
        try {
          NativeSigner.fromHex(input as string, { backend });
        } catch (err) {
          thrown = err;
        }
        assert.ok(thrown instanceof TypeError, `${backend}: TypeError for input #${bad.indexOf(input)}`);
        const text = `${thrown.message}\n${thrown.stack}\n${inspect(thrown)}\n${JSON.stringify(thrown)}`;
        assertNoKey(text, good);
        if (typeof input === 'string' && input.replace(/^0x/, '').length >= 8) assertNoKey(text, input.replace(/[^0-9a-fA-F]/g, '').slice(0, 64));
      }
    }
    assert.throws(() => NativeSigner.fromBytes(new Uint8Array(31)), TypeError);
    assert.throws(() => NativeSigner.fromBytes(new Uint8Array(32)), TypeError);
  });

  it('args: fromHex accepts 0x, 0X, no prefix, upper case and surrounding white space alike', () => {
    const digits = KEYS[0]!.slice(2);
    const expected = privateKeyToAccount(KEYS[0]!).address.toLowerCase();
    for (const k of [digits, `0x${digits}`, `0X${digits.toUpperCase()}`, `  0x${digits}\n`]) assert.equal(NativeSigner.fromHex(k).address, expected);
    assert.equal(NativeSigner.fromBytes(Buffer.from(digits, 'hex')).address, expected);
  });

  it('args: fromBytes copies the key, so the caller may wipe its array', () => {
    const bytes = Uint8Array.from(Buffer.from(KEYS[0]!.slice(2), 'hex'));
    const signer = NativeSigner.fromBytes(bytes);
    const before = signer.signMessage('m');
    bytes.fill(0);
    assert.equal(signer.signMessage('m'), before);
  });

  it('args: signerFromEnv reads ORION_PRIVATE_KEY, null when unset or empty', () => {
    assert.equal(signerFromEnv({}), null);
    assert.equal(signerFromEnv({ ORION_PRIVATE_KEY: '' }), null);
    assert.equal(signerFromEnv({ ORION_PRIVATE_KEY: KEYS[0]!.slice(2) })?.address, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
    assert.equal(signerFromEnv({ ORION_PRIVATE_KEY: KEYS[0]! }, { backend: 'js' })?.backend, 'js');
  });

  it('error: a malformed ORION_PRIVATE_KEY names the variable and quotes none of it', () => {
    const value = `0x${KEYS[0]!.slice(2, 60)}`;
    assert.throws(
      () => signerFromEnv({ ORION_PRIVATE_KEY: value }),
      (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /^ORION_PRIVATE_KEY: /);
        assertNoKey(`${err.message}\n${err.stack}\n${inspect(err)}`, KEYS[0]!);
        return true;
      },
    );
  });

  it('error: a nonce beyond 2^53 − 1 or negative is refused before signing', () => {
    const signer = NativeSigner.fromHex(KEYS[0]!);
    const tx: Eip1559Tx = { chainId: 1, nonce: 0n, to: TO, data: '0x', value: 0n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n };
    assert.throws(() => signer.signTx({ ...tx, nonce: 2n ** 53n }), RangeError);
    assert.throws(() => signer.signTx({ ...tx, nonce: -1n }), RangeError);
  });

  it('error: errors from signing (viem\'s field checks) carry no key material', () => {
    const signer = NativeSigner.fromHex(KEYS[0]!);
    const tx: Eip1559Tx = { chainId: 0, nonce: 0n, to: TO, data: '0x', value: 0n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 2n };
    assert.throws(
      () => signer.signTx(tx),
      (err: unknown) => {
        assertNoKey(`${(err as Error).message}\n${(err as Error).stack}\n${inspect(err)}`, KEYS[0]!);
        return true;
      },
    );
  });
});
