/**
 * Budget windows: calendar days and months in an IANA time zone (reset at local midnight,
 * DST-aware, via Intl), and rolling windows kept as a fixed number of time buckets. The
 * current calendar window is cached until it ends, so the request path does no date maths.
 */
import type { BudgetWindowKind } from './schema.js';

/** Where spend for `now` goes and when the window ends. */
export interface WindowSlot {
  /** Calendar: the window's id (`2026-11-24`, `2026-11`); rolling: `rolling`. */
  id: string;
  /** Calendar: when this window started. Rolling: now - period. */
  startsAt: number;
  /** Calendar: when this window resets. Rolling: null (spend slides out bucket by bucket). */
  resetsAt: number | null;
  /** Rolling only: bucket length; 0 for calendar windows. */
  bucketMs: number;
  /** Rolling only: how many buckets the window spans. */
  buckets: number;
  /** How long the stored counter must live. */
  ttlMs: number;
}

/** Rolling windows are kept in this many buckets: spend leaves the window in steps of period/60. */
const ROLLING_BUCKETS = 60;

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

/** Calendar arithmetic in one time zone. */
export class ZoneCalendar {
  private readonly fmt: Intl.DateTimeFormat;
  private day: { start: number; end: number; id: string } | undefined;
  private month: { start: number; end: number; id: string } | undefined;

  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  private parts(ms: number): LocalDate & { h: number; mi: number; s: number } {
    const o: Record<string, number> = {};
    for (const p of this.fmt.formatToParts(ms)) if (p.type !== 'literal') o[p.type] = Number(p.value);
    return { y: o.year!, m: o.month!, d: o.day!, h: o.hour! % 24, mi: o.minute!, s: o.second! };
  }

  /** The zone's offset from UTC at `ms`, in ms. */
  private offset(ms: number): number {
    const p = this.parts(ms);
    return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
  }

  /** The instant of local midnight starting the date (Date.UTC normalizes overflowing days and months). */
  midnight(d: LocalDate): number {
    const guess = Date.UTC(d.y, d.m - 1, d.d);
    let t = guess - this.offset(guess);
    t = guess - this.offset(t);
    return t;
  }

  dayWindow(now: number): { start: number; end: number; id: string } {
    if (this.day && now >= this.day.start && now < this.day.end) return this.day;
    const p = this.parts(now);
    const start = this.midnight(p);
    const end = this.midnight({ y: p.y, m: p.m, d: p.d + 1 });
    this.day = { start, end, id: `${p.y}-${pad(p.m)}-${pad(p.d)}` };
    return this.day;
  }

  monthWindow(now: number): { start: number; end: number; id: string } {
    if (this.month && now >= this.month.start && now < this.month.end) return this.month;
    const p = this.parts(now);
    const start = this.midnight({ y: p.y, m: p.m, d: 1 });
    const end = this.midnight({ y: p.y, m: p.m + 1, d: 1 });
    this.month = { start, end, id: `${p.y}-${pad(p.m)}` };
    return this.month;
  }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A budget's window: where `now` falls and how its counter is kept. */
export class BudgetWindow {
  private readonly bucketMs: number;
  private readonly buckets: number;

  constructor(
    readonly kind: BudgetWindowKind,
    private readonly calendar: ZoneCalendar,
    /** Rolling windows only. */
    readonly periodMs = 0,
  ) {
    this.bucketMs = kind === 'rolling' ? Math.max(1000, Math.ceil(periodMs / ROLLING_BUCKETS)) : 0;
    this.buckets = kind === 'rolling' ? Math.ceil(periodMs / this.bucketMs) : 0;
  }

  at(now: number): WindowSlot {
    if (this.kind === 'rolling') {
      return { id: 'rolling', startsAt: now - this.periodMs, resetsAt: null, bucketMs: this.bucketMs, buckets: this.buckets, ttlMs: this.periodMs + 2 * this.bucketMs };
    }
    const w = this.kind === 'day' ? this.calendar.dayWindow(now) : this.calendar.monthWindow(now);
    // Kept a minute past the reset, so a call that started before it can still settle.
    return { id: w.id, startsAt: w.start, resetsAt: w.end, bucketMs: 0, buckets: 0, ttlMs: w.end - now + 60_000 };
  }

  describe(): string {
    if (this.kind === 'rolling') return `rolling ${formatPeriod(this.periodMs)}`;
    return `${this.kind === 'day' ? 'daily' : 'monthly'} (${this.calendar.timeZone})`;
  }
}

export function formatPeriod(ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
