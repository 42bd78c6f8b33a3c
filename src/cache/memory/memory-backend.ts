/**
 * The in-memory exact-cache backend (the default): an LRU over a Map (insertion order is
 * recency order), bounded by entry count and by approximate bytes, with lazy expiry.
 * Answers synchronously, so a hit costs no extra tick.
 */
import type { CacheBackend } from '../backend.js';
import { entrySize, type CacheEntry } from '../entry.js';

interface Slot {
  entry: CacheEntry;
  expiresAt: number;
  size: number;
}

export interface MemoryBackendOptions {
  maxEntries: number;
  maxBytes: number;
  now?: () => number;
}

export class MemoryCacheBackend implements CacheBackend {
  readonly kind = 'memory';
  private readonly map = new Map<string, Slot>();
  private bytes = 0;
  /** Entries pushed out by the bounds (not by expiry). */
  evictions = 0;
  private readonly now: () => number;

  constructor(private readonly opts: MemoryBackendOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): CacheEntry | undefined {
    const slot = this.map.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.remove(key, slot);
      return undefined;
    }
    // Most recently used goes last.
    this.map.delete(key);
    this.map.set(key, slot);
    return slot.entry;
  }

  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    const old = this.map.get(key);
    if (old) this.remove(key, old);
    const size = entrySize(entry);
    if (size > this.opts.maxBytes) return Promise.resolve();
    this.map.set(key, { entry, expiresAt: this.now() + ttlMs, size });
    this.bytes += size;
    while (this.map.size > this.opts.maxEntries || this.bytes > this.opts.maxBytes) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.remove(oldest.value, this.map.get(oldest.value)!);
      this.evictions++;
    }
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    const slot = this.map.get(key);
    if (slot) this.remove(key, slot);
    return Promise.resolve();
  }

  clear(): Promise<void> {
    this.map.clear();
    this.bytes = 0;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.clear();
  }

  private remove(key: string, slot: Slot): void {
    this.map.delete(key);
    this.bytes -= slot.size;
  }
}
