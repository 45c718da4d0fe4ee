/**
 * The key a replay tape files a JSON-RPC read under: `<method> <canonical JSON of params>`, where the
 * canonical JSON lowercases every string that is 0x-hex (`/^0x[0-9a-f]*$/i`), writes object keys in
 * sorted order (dropping undefined values, as JSON does) and leaves everything else — other strings,
 * numbers, booleans, null, array order — exactly as given. So `0xAbC…` and `0xabc…` (checksummed and
 * plain addresses) meet, while `0x1` and `0x01`, or `1` and `"0x1"`, stay different reads: the
 * engine sends one spelling, and guessing that two spellings mean the same block would be a guess.
 */

/** 0 for lowercase 0x-hex, 1 for 0x-hex with an uppercase letter (or `0X`), -1 for anything else. One pass, no regex. */
function hexCase(s: string): number {
  const n = s.length;
  if (n < 2 || s.charCodeAt(0) !== 0x30) return -1;
  const x = s.charCodeAt(1);
  if (x !== 0x78 && x !== 0x58) return -1;
  let upper = x === 0x58 ? 1 : 0;
  for (let i = 2; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) upper = 1;
    else return -1;
  }
  return upper;
}

/** The canonical JSON of one JSON value. String concatenation (V8 ropes) beat an array join here. */
function canon(v: unknown): string {
  switch (typeof v) {
    case 'string': {
      // Hex needs no JSON escaping; a tape is mostly hex, so this is the common path.
      const h = hexCase(v);
      if (h === 0) return `"${v}"`;
      return h === 1 ? `"${v.toLowerCase()}"` : JSON.stringify(v);
    }
    case 'number':
    case 'boolean':
      return JSON.stringify(v);
    case 'bigint':
      // Not a JSON value; a tape never holds one, but a key must not throw for it.
      return String(v);
    case 'object':
      break;
    default:
      return 'null';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += i > 0 ? `,${canon(v[i])}` : canon(v[i]);
    return `${s}]`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 1) keys.sort();
  let s = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    s += `${first ? '' : ','}${JSON.stringify(k)}:${canon(x)}`;
    first = false;
  }
  return `${s}}`;
}

/** The tape's key for a call: `method`, a space, the canonical JSON of `params`. @remarks Allocates. */
export function canonicalKey(method: string, params: unknown): string {
  return `${method} ${canon(params)}`;
}
