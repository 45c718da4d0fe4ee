/**
 * A bounded map from recent hashes to a value (ingest keeps the first sighting: source and time).
 * Insertion order is kept in a ring of keys; when full, the oldest key is evicted, so memory stays
 * fixed however long the engine runs. All operations are O(1).
 */
export class HashWindow<V> {
  private readonly map = new Map<string, V>();
  private readonly keys: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`HashWindow capacity must be a positive integer, got ${capacity}`);
    this.keys = new Array<string | undefined>(capacity);
  }

  /** The value stored for `key`, or undefined. */
  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Stores `key` (which must not be present), evicting the oldest key when the window is full. */
  add(key: string, value: V): void {
    const old = this.keys[this.next];
    if (old !== undefined) this.map.delete(old);
    this.keys[this.next] = key;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    this.map.set(key, value);
  }

  /** Keys currently held. */
  get size(): number {
    return this.map.size;
  }
}
