/** Where a client keeps its sync cursor between runs: memory, localStorage, a file, a database. */
export interface CursorStore {
  get(): string | undefined | Promise<string | undefined>;
  set(cursor: string): void | Promise<void>;
}

export class MemoryCursorStore implements CursorStore {
  private cursor?: string;
  get(): string | undefined {
    return this.cursor;
  }
  set(cursor: string): void {
    this.cursor = cursor;
  }
}

/** For browsers: the cursor survives a reload. */
export class LocalStorageCursorStore implements CursorStore {
  constructor(
    private readonly storage: { getItem(k: string): string | null; setItem(k: string, v: string): void },
    private readonly key = 'chat.cursor',
  ) {}
  get(): string | undefined {
    return this.storage.getItem(this.key) ?? undefined;
  }
  set(cursor: string): void {
    this.storage.setItem(this.key, cursor);
  }
}
