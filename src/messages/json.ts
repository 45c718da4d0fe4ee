/**
 * JSON for humans and websocket clients: bigints as decimal strings, bytes as 0x-hex, everything
 * else as JSON has it. One convention for the CLI, the gateway and reports.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString(10);
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

/** `JSON.stringify` of {@link toJsonValue}. */
export function toJson(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase 0x-hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '0x';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}
