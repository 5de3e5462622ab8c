/**
 * The most recently set entries, up to a capacity: Map keeps insertion order, so
 * re-inserting on set makes the first entry the one set longest ago, which goes first.
 */
export class Recent<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }

  /** A read-only view of the keys, without copying them. */
  keySet(): { has(key: string): boolean } {
    return this.entries;
  }
}
