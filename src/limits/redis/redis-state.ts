/**
 * Redis limits state, shared by every gateway instance pointing at the same Redis: each
 * request's check-and-reserve and its settlement are one Lua script call (EVALSHA) each.
 * Keys live under the configured prefix (`<prefix>:lim:...`; `{<prefix>}:lim:...` in a Redis
 * Cluster, so that every key a script touches is in one hash slot).
 */
import type { Cluster, Redis } from 'ioredis';
import { RedisBreaker, type RedisHandle } from '../../state/redis.js';
import type {
  Admission,
  AdmitResult,
  BudgetAlert,
  LimitsState,
  Settlement,
  SettleResult,
  SpendProbe,
} from '../state.js';
import { ADMIT_LUA, SETTLE_LUA, SPEND_LUA } from './scripts.js';

type Reply = Array<number | string>;

type ScriptClient = (Redis | Cluster) & {
  llmopsAdmit(...args: Array<string | number>): Promise<Reply>;
  llmopsSettle(...args: Array<string | number>): Promise<Reply>;
  llmopsSpend(...args: Array<string | number>): Promise<Reply>;
};

const MAX_ALERTS = 100;

export class RedisLimitsState implements LimitsState {
  readonly kind = 'redis' as const;
  private readonly client: ScriptClient;
  /** The request path's calls (admit, settle, spend) skip Redis for a moment after it could not be reached. */
  private readonly breaker = new RedisBreaker('limits');

  constructor(
    private readonly redis: RedisHandle,
    /** Close the Redis connection with this state (when it was opened for it alone). */
    private readonly ownsConnection = false,
  ) {
    const c = redis.client as ScriptClient;
    // defineCommand is idempotent per name; it sends EVALSHA and falls back to EVAL once.
    if (typeof c.llmopsAdmit !== 'function') c.defineCommand('llmopsAdmit', { lua: ADMIT_LUA });
    if (typeof c.llmopsSettle !== 'function') c.defineCommand('llmopsSettle', { lua: SETTLE_LUA });
    if (typeof c.llmopsSpend !== 'function') c.defineCommand('llmopsSpend', { lua: SPEND_LUA });
    this.client = c;
  }

  private k(key: string): string {
    return this.redis.slotKey('lim', key);
  }

  async admit(a: Admission): Promise<AdmitResult> {
    const nr = a.rates.length;
    const nb = a.budgets.length;
    const args: Array<string | number> = [nr + 2 * nb];
    for (const r of a.rates) args.push(this.k(r.key));
    for (const b of a.budgets) args.push(this.k(b.key));
    for (const b of a.budgets) args.push(this.k(b.indexKey));
    args.push(a.now, nr, nb, a.amountNano);
    for (const r of a.rates) args.push(r.limit, r.periodMs, r.cost);
    for (const b of a.budgets) args.push(b.hardNano, b.bucketMs, b.buckets, Math.ceil(b.ttlMs), b.subject);
    const out = await this.breaker.run(() => this.client.llmopsAdmit(...args));
    let i = 1;
    const rates = a.rates.map(() => {
      const s = { allowed: out[i] === 1, remaining: Number(out[i + 1]), resetMs: Number(out[i + 2]), retryAfterMs: Number(out[i + 3]) };
      i += 4;
      return s;
    });
    const budgets = a.budgets.map(() => {
      const s = { allowed: out[i] === 1, spentNano: Number(out[i + 1]), retryAfterMs: Number(out[i + 2]), bucket: Number(out[i + 3]) };
      i += 4;
      return s;
    });
    return { ok: out[0] === 1, rates, budgets };
  }

  async settle(s: Settlement): Promise<SettleResult> {
    const nr = s.rates.length;
    const nb = s.budgets.length;
    const args: Array<string | number> = [nr + 2 * nb];
    for (const r of s.rates) args.push(this.k(r.key));
    for (const b of s.budgets) args.push(this.k(b.key));
    for (const b of s.budgets) args.push(this.k(b.alertKey));
    args.push(s.now, nr, nb);
    for (const r of s.rates) args.push(r.limit, r.periodMs, Math.round(r.delta));
    for (const b of s.budgets) args.push(Math.round(b.deltaNano), b.bucketMs, b.buckets, b.bucket, b.softNano, Math.ceil(b.ttlMs));
    const out = await this.breaker.run(() => this.client.llmopsSettle(...args));
    const totalsNano: number[] = [];
    const alerted: boolean[] = [];
    for (let j = 0; j < nb; j++) {
      totalsNano.push(Number(out[2 * j]));
      alerted.push(out[2 * j + 1] === 1);
    }
    return { totalsNano, alerted };
  }

  async spend(probes: SpendProbe[], now: number): Promise<number[]> {
    if (probes.length === 0) return [];
    const args: Array<string | number> = [probes.length, ...probes.map((p) => this.k(p.key)), now];
    for (const p of probes) args.push(p.bucketMs, p.buckets);
    const out = await this.breaker.run(() => this.client.llmopsSpend(...args));
    return out.map(Number);
  }

  async subjects(indexKey: string, since: number): Promise<string[]> {
    const list = await this.client.zrangebyscore(this.k(indexKey), since, '+inf');
    return list.sort();
  }

  async pushAlert(alert: BudgetAlert): Promise<void> {
    const key = this.k('alerts');
    await this.client.multi().lpush(key, JSON.stringify(alert)).ltrim(key, 0, MAX_ALERTS - 1).exec();
  }

  async alerts(limit: number): Promise<BudgetAlert[]> {
    const list = await this.client.lrange(this.k('alerts'), 0, limit - 1);
    return list.map((s) => JSON.parse(s) as BudgetAlert);
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.redis.close();
  }
}
