import { describe, expect, it } from 'vitest';
import { BudgetWindow, ZoneCalendar } from './budget-window.js';

describe('budget windows', () => {
  it('calendar days reset at local midnight in the configured zone', () => {
    const w = new BudgetWindow('day', new ZoneCalendar('Europe/Paris'));
    // 23:30 UTC on 2026-06-10 is already 01:30 on the 11th in Paris (UTC+2 in summer).
    const s = w.at(Date.parse('2026-06-10T23:30:00Z'));
    expect(s.id).toBe('2026-06-11');
    expect(new Date(s.startsAt).toISOString()).toBe('2026-06-10T22:00:00.000Z');
    expect(new Date(s.resetsAt!).toISOString()).toBe('2026-06-11T22:00:00.000Z');
    expect(s.bucketMs).toBe(0);
  });

  it('handles daylight-saving days (23 and 25 hours long)', () => {
    const ny = new BudgetWindow('day', new ZoneCalendar('America/New_York'));
    const spring = ny.at(Date.parse('2026-03-08T12:00:00Z'));
    expect(spring.resetsAt! - spring.startsAt).toBe(23 * 3_600_000);
    const fall = ny.at(Date.parse('2026-11-01T12:00:00Z'));
    expect(fall.resetsAt! - fall.startsAt).toBe(25 * 3_600_000);
    expect(new Date(fall.resetsAt!).toISOString()).toBe('2026-11-02T05:00:00.000Z');
  });

  it('calendar months run from the 1st to the 1st, across years', () => {
    const w = new BudgetWindow('month', new ZoneCalendar('Asia/Tokyo'));
    const s = w.at(Date.parse('2026-12-31T16:00:00Z')); // Jan 1st 01:00 in Tokyo
    expect(s.id).toBe('2027-01');
    expect(new Date(s.startsAt).toISOString()).toBe('2026-12-31T15:00:00.000Z');
    expect(new Date(s.resetsAt!).toISOString()).toBe('2027-01-31T15:00:00.000Z');
    const utc = new BudgetWindow('month', new ZoneCalendar('UTC')).at(Date.parse('2026-02-15T00:00:00Z'));
    expect([utc.id, new Date(utc.resetsAt!).toISOString()]).toEqual(['2026-02', '2026-03-01T00:00:00.000Z']);
  });

  it('rolling windows are kept in 60 buckets and have no reset time', () => {
    const w = new BudgetWindow('rolling', new ZoneCalendar('UTC'), 3_600_000);
    const s = w.at(1_000_000_000);
    expect(s).toMatchObject({ id: 'rolling', resetsAt: null, bucketMs: 60_000, buckets: 60 });
    expect(w.describe()).toBe('rolling 1h');
  });
});
