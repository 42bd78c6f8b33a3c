import { describe, expect, it } from 'vitest';
import { IdGenerator, INSTANCE_NUMBERS } from './ids.js';

describe('IdGenerator', () => {
  it('makes call ids of 16 hex digits: the second, the instance number, a counter', () => {
    const ids = new IdGenerator(5, () => 1_733_300_000_123);
    expect(ids.callId()).toBe(`${(1_733_300_000).toString(16)}00500000`);
    expect(ids.callId()).toBe(`${(1_733_300_000).toString(16)}00500001`);
  });

  it('keeps call ids increasing as text when the clock steps back or a second fills up', () => {
    let now = 1_733_300_000_000;
    const ids = new IdGenerator(INSTANCE_NUMBERS - 1, () => now);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push(ids.callId());
    now -= 5_000; // NTP steps the clock back
    for (let i = 0; i < 3; i++) made.push(ids.callId());
    now += 20_000;
    made.push(ids.callId());
    for (const [i, id] of made.entries()) {
      expect(id).toMatch(/^[\da-f]{16}$/);
      if (i > 0) expect(id > made[i - 1]!, `${id} after ${made[i - 1]}`).toBe(true);
    }
    // 2^20 calls in one second: the next one borrows the next second.
    const full = new IdGenerator(1, () => now);
    let last = '';
    for (let i = 0; i < 0x100000; i++) last = full.callId();
    const next = full.callId();
    expect(next > last).toBe(true);
    expect(parseInt(next.slice(0, 8), 16)).toBe(Math.floor(now / 1000) + 1);
    expect(new Set([last, next]).size).toBe(2);
  });

  it('never gives two instances the same call id, even in the same second', () => {
    const now = (): number => 1_733_300_000_500;
    const a = new IdGenerator(1, now);
    const b = new IdGenerator(2, now);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      seen.add(a.callId());
      seen.add(b.callId());
    }
    expect(seen.size).toBe(20_000);
  });

  it('takes the instance number modulo 4096, negative numbers too', () => {
    const ids = new IdGenerator(0, () => 0);
    ids.setInstance(INSTANCE_NUMBERS + 3);
    expect(ids.callId().slice(8, 11)).toBe('003');
    ids.setInstance(-1);
    expect(ids.callId().slice(8, 11)).toBe('fff');
  });

  it('makes trace ids of 32 hex digits that sort by millisecond and differ within one', () => {
    let now = 1_733_300_000_000;
    const ids = new IdGenerator(0, () => now);
    const same = [ids.traceId(), ids.traceId()];
    now += 1;
    const later = ids.traceId();
    for (const id of [...same, later]) expect(id).toMatch(/^[\da-f]{32}$/);
    expect(same[0]!.slice(0, 12)).toBe((now - 1).toString(16).padStart(12, '0'));
    expect(same[0]).not.toBe(same[1]);
    expect(later > same[0]! && later > same[1]!).toBe(true);
  });
});
