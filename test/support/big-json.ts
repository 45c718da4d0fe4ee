/**
 * JSON that keeps bigints, for records that cross a file or a process boundary in tests
 * (opportunities handed to a source worker, submissions printed by a child engine): a bigint is
 * written as the string `"<digits>n"`, and any string of that shape is read back as a bigint.
 * Addresses and hashes (0x-hex) never have that shape.
 */

const BIG = /^-?[0-9]+n$/;

/** `JSON.stringify` with bigints as `"123n"`. */
export function stringifyBig(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

/** `JSON.parse` reading `"123n"` back as `123n`. */
export function parseBig<T = unknown>(s: string): T {
  return JSON.parse(s, (_k, x: unknown) => (typeof x === 'string' && BIG.test(x) ? BigInt(x.slice(0, -1)) : x)) as T;
}
