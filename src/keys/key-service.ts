/**
 * Virtual keys: creation, hashing, lookup with a short in-memory cache, revocation and
 * batched `last_used_at`. Keys are stored as SHA-256 hashes (they are long random
 * secrets, so a fast unsalted hash is safe), never in clear.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { withDeadline } from '../deadline.js';
import { LlmopsError } from '../errors.js';
import type { KeyLimits } from '../limits/schema.js';
import type { Logger } from '../logger.js';
import type { KeyPatch, KeyRecord, Store } from '../store/types.js';

/** Who is calling: the admin, a stored virtual key or a key from config. */
export interface Principal {
  kind: 'admin' | 'key';
  /** Stored key id, `config:<name>` for config keys, null for the admin. */
  keyId: string | null;
  name: string;
  /** May this principal call `model` (a public name or `provider/model`)? */
  allows(model: string): boolean;
  /** May this principal read traces, metrics and costs (`/api/*`)? The admin always may. */
  canRead: boolean;
  metadata: Record<string, unknown> | null;
  /** The key's own rate limits and budget, when it has any. */
  limits?: KeyLimits | null;
}

export interface StaticKey {
  name: string;
  key: string;
  models?: string[] | undefined;
  roles?: string[] | undefined;
  metadata?: Record<string, unknown> | undefined;
  limits?: KeyLimits | undefined;
}

export interface CreateKeyInput {
  name: string;
  models?: string[] | null | undefined;
  roles?: string[] | null | undefined;
  expiresAt?: number | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
  limits?: KeyLimits | null | undefined;
}

const KEY_PREFIX = 'sk-llmops-';
const MAX_CACHED_TOKENS = 10_000;
const ADMIN: Principal = { kind: 'admin', keyId: null, name: 'admin', allows: () => true, canRead: true, metadata: null };

interface CacheEntry {
  principal: Principal;
  rec?: KeyRecord;
  at: number;
  /** The token is the key's secret before a rotation: valid until this time (null: no longer). */
  previousUntil?: number | null;
}
const CACHE_TTL_MS = 10_000;
const TOUCH_FLUSH_MS = 5_000;
/**
 * How long a request waits for the store to look its key up. A store that stopped answering
 * (PostgreSQL on a host gone dark) held every request whose key was due for a refresh.
 */
export const KEY_LOOKUP_TIMEOUT_MS = 1500;
/** After a refresh failed, how long a key's last known record serves before the store is asked again. */
export const KEY_STALE_RETRY_MS = 5000;

export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** A matcher for a key's allowed models: exact names or `*` globs; null allows everything. */
export function modelMatcher(models: string[] | null | undefined): (model: string) => boolean {
  if (!models) return () => true;
  const exact = new Set(models.filter((m) => !m.includes('*')));
  const globs = models.filter((m) => m.includes('*')).map(globToRegExp);
  return (model) => exact.has(model) || globs.some((g) => g.test(model));
}

function principalFor(rec: Pick<KeyRecord, 'id' | 'name' | 'models' | 'roles' | 'metadata' | 'limits'>): Principal {
  return { kind: 'key', keyId: rec.id, name: rec.name, allows: modelMatcher(rec.models), canRead: rec.roles?.includes('read') ?? false, metadata: rec.metadata, limits: rec.limits ?? null };
}

/** Key records as the admin API shows them: no hashes. */
export type PublicKey = Omit<KeyRecord, 'key_hash' | 'previous_key_hash'>;

export function publicKey(k: KeyRecord): PublicKey {
  const { key_hash: _hash, previous_key_hash: _previous, ...rest } = k;
  return rest;
}

function compileStaticKeys(keys: StaticKey[]): Map<string, Principal> {
  const out = new Map<string, Principal>();
  for (const k of keys) {
    out.set(hashKey(k.key), {
      kind: 'key',
      keyId: `config:${k.name}`,
      name: k.name,
      allows: modelMatcher(k.models),
      canRead: k.roles?.includes('read') ?? false,
      metadata: k.metadata ?? null,
      limits: k.limits ?? null,
    });
  }
  return out;
}

export class KeyService {
  private readonly adminHash: Buffer | undefined;
  private staticKeys: Map<string, Principal>;
  /** Token → principal; `rec` is set for stored keys (checked for expiry/revocation on every use). */
  private readonly cache = new Map<string, CacheEntry>();
  /** Store lookups in flight, by key hash. */
  private readonly lookups = new Map<string, Promise<KeyRecord | undefined>>();
  private lastStoreWarning = 0;
  private readonly touched = new Map<string, number>();
  private touchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    opts: { adminKey: string | undefined; staticKeys: StaticKey[]; log: Logger },
    private readonly log = opts.log,
  ) {
    this.adminHash = opts.adminKey ? Buffer.from(hashKey(opts.adminKey), 'hex') : undefined;
    this.staticKeys = compileStaticKeys(opts.staticKeys);
  }

  /**
   * The keys from config, anew (a config reload): a key removed from config is refused from
   * the next request on, a changed one applies at once. Stored keys are untouched.
   */
  setStaticKeys(keys: StaticKey[]): void {
    this.staticKeys = compileStaticKeys(keys);
    for (const [token, entry] of this.cache) if (!entry.rec && entry.principal.kind === 'key') this.cache.delete(token);
  }

  /** Resolves a bearer token to a principal, or throws a 401 error saying why. */
  async authenticate(token: string | undefined, now = Date.now()): Promise<Principal> {
    if (!token) {
      throw new LlmopsError(
        'missing_api_key',
        'No API key provided. Send it as "Authorization: Bearer <key>" (or "x-api-key: <key>").',
      );
    }
    // Fast path: a token seen recently skips hashing (the map is bounded, entries expire).
    let hit = this.cache.get(token);
    if (!hit || (hit.rec && now - hit.at > CACHE_TTL_MS)) {
      const hash = hashKey(token);
      if (this.adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) {
        return this.remember(token, { principal: ADMIN, at: now });
      }
      const fromConfig = this.staticKeys.get(hash);
      if (fromConfig) return this.remember(token, { principal: fromConfig, at: now });
      hit = await this.lookup(token, hash, hit, now);
    }
    return this.checked(hit, now);
  }

  /**
   * {@link authenticate}'s answer when the token was seen recently, without a promise (the
   * request path's common case); undefined when the store must be asked. Throws what
   * {@link authenticate} would reject with.
   */
  cachedPrincipal(token: string | undefined, now = Date.now()): Principal | undefined {
    if (!token) return undefined;
    const hit = this.cache.get(token);
    if (!hit || (hit.rec && now - hit.at > CACHE_TTL_MS)) return undefined;
    return this.checked(hit, now);
  }

  /** A cached or just read principal, checked for revocation and expiry. */
  private checked(hit: CacheEntry, now: number): Principal {
    const rec = hit.rec;
    if (!rec) return hit.principal; // the admin or a key from config
    if (rec.revoked_at !== null && rec.revoked_at <= now) {
      throw new LlmopsError('revoked_api_key', `The API key ${rec.key_prefix}… ("${rec.name}") has been revoked.`);
    }
    if (hit.previousUntil !== undefined && (hit.previousUntil === null || hit.previousUntil <= now)) {
      throw new LlmopsError('invalid_api_key', `The API key "${rec.name}" (${rec.id}) was rotated: this, its previous secret, stopped working${hit.previousUntil === null ? '' : ` at ${new Date(hit.previousUntil).toISOString()}`}. Use the new one.`);
    }
    if (rec.expires_at !== null && rec.expires_at <= now) {
      throw new LlmopsError(
        'expired_api_key',
        `The API key ${rec.key_prefix}… ("${rec.name}") expired at ${new Date(rec.expires_at).toISOString()}.`,
      );
    }
    this.touch(rec.id, now);
    return hit.principal;
  }

  /**
   * A stored key's record from the store, or, when the store fails or does not answer within
   * {@link KEY_LOOKUP_TIMEOUT_MS}, the last one known for it (used for
   * {@link KEY_STALE_RETRY_MS}, then the store is asked again): a store outage does not stop
   * keys that were in use. Revocations and changes made meanwhile apply once the store answers.
   * A key never seen gets 503 `store_unavailable`. One lookup per key at a time: while it is
   * out, a key with a last known record goes on with it.
   */
  private async lookup(token: string, hash: string, stale: CacheEntry | undefined, now: number): Promise<CacheEntry> {
    const pending = this.lookups.get(hash);
    if (pending && stale) return stale;
    let rec: KeyRecord | undefined;
    try {
      rec = await (pending ?? this.startLookup(hash));
    } catch (err) {
      const lastKnown = stale?.rec ? stale : undefined;
      if (Date.now() - this.lastStoreWarning > 5000) {
        this.lastStoreWarning = Date.now();
        this.log.warn(lastKnown ? 'key store unavailable: serving keys from their last known records' : 'key store unavailable: unknown keys are refused (503)', { err });
      }
      if (!lastKnown) {
        throw new LlmopsError('store_unavailable', 'API keys cannot be checked right now (the key store is not answering). Retry shortly.', {
          retryAfterMs: 1000,
          cause: err,
        });
      }
      const entry = { ...lastKnown, at: now - CACHE_TTL_MS + KEY_STALE_RETRY_MS };
      this.remember(token, entry);
      return entry;
    }
    if (!rec) {
      this.cache.delete(token);
      throw new LlmopsError('invalid_api_key', `Incorrect API key provided: ${redact(token)}.`);
    }
    const entry: CacheEntry = { rec, principal: principalFor(rec), at: now };
    if (rec.key_hash !== hash) entry.previousUntil = rec.previous_key_hash === hash ? rec.previous_valid_until : null;
    this.remember(token, entry);
    return entry;
  }

  private startLookup(hash: string): Promise<KeyRecord | undefined> {
    const lookup = withDeadline(this.store.findKeyByHash(hash), KEY_LOOKUP_TIMEOUT_MS, `the store did not answer within ${KEY_LOOKUP_TIMEOUT_MS} ms`).finally(() => {
      this.lookups.delete(hash);
    });
    this.lookups.set(hash, lookup);
    return lookup;
  }

  /** Drops what this instance cached for a stored key, so its next use reads the store. */
  private forget(id: string): void {
    for (const [token, entry] of this.cache) if (entry.rec?.id === id) this.cache.delete(token);
  }

  private remember(token: string, entry: CacheEntry): Principal {
    if (this.cache.size >= MAX_CACHED_TOKENS) this.cache.clear();
    this.cache.set(token, entry);
    return entry.principal;
  }

  /** Creates a key; the secret is returned once and never stored. */
  async create(input: CreateKeyInput, now = Date.now()): Promise<{ key: string; record: PublicKey }> {
    const secret = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const rec: KeyRecord = {
      id: `key_${randomBytes(8).toString('hex')}`,
      name: input.name,
      key_hash: hashKey(secret),
      key_prefix: secret.slice(0, KEY_PREFIX.length + 4),
      models: input.models ?? null,
      roles: input.roles ?? null,
      limits: input.limits ?? null,
      metadata: input.metadata ?? null,
      created_at: now,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      last_used_at: null,
      previous_key_hash: null,
      previous_valid_until: null,
    };
    await this.store.createKey(rec);
    return { key: secret, record: publicKey(rec) };
  }

  async list(): Promise<PublicKey[]> {
    return (await this.store.listKeys()).map(publicKey);
  }

  async get(id: string): Promise<PublicKey | undefined> {
    const k = await this.store.getKey(id);
    return k ? publicKey(k) : undefined;
  }

  /** Revokes a key; effective at once on this instance, within the cache TTL on others. */
  async revoke(id: string, now = Date.now()): Promise<boolean> {
    const changed = await this.store.revokeKey(id, now);
    this.forget(id);
    return changed;
  }

  /**
   * Changes a key's name, allowed models, roles, metadata or expiry (its secret stays);
   * effective at once here, within the cache TTL on other instances.
   */
  async update(id: string, patch: KeyPatch): Promise<PublicKey | undefined> {
    if (!(await this.store.updateKey(id, patch))) return undefined;
    this.forget(id);
    return this.get(id);
  }

  /**
   * Gives a key a new secret, returned once; the old one keeps working for `graceMs` (0: it
   * stops at once here, within the cache TTL on other instances). Its id, limits, spend and
   * traces stay. Undefined when there is no such key.
   */
  async rotate(id: string, graceMs: number, now = Date.now()): Promise<{ key: string; record: PublicKey } | undefined> {
    const secret = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const done = await this.store.rotateKey(id, { key_hash: hashKey(secret), key_prefix: secret.slice(0, KEY_PREFIX.length + 4), previousValidUntil: graceMs > 0 ? now + graceMs : null });
    if (!done) return undefined;
    this.forget(id);
    const record = await this.get(id);
    return record && { key: secret, record };
  }

  /** Replaces a key's limits (null clears them); effective at once here, within the cache TTL on other instances. */
  async setLimits(id: string, limits: KeyLimits | null): Promise<PublicKey | undefined> {
    if (!(await this.store.updateKeyLimits(id, limits))) return undefined;
    this.forget(id);
    return this.get(id);
  }

  /** Keys from config that carry limits (for the budgets report). */
  staticKeyLimits(): Array<{ id: string; name: string; limits: KeyLimits }> {
    const out: Array<{ id: string; name: string; limits: KeyLimits }> = [];
    for (const p of this.staticKeys.values()) if (p.limits && p.keyId) out.push({ id: p.keyId, name: p.name, limits: p.limits });
    return out;
  }

  private touch(id: string, now: number): void {
    this.touched.set(id, now);
    if (!this.touchTimer) {
      this.touchTimer = setTimeout(() => void this.flushTouches(), TOUCH_FLUSH_MS);
      this.touchTimer.unref();
    }
  }

  /** Writes pending `last_used_at` updates. */
  async flushTouches(): Promise<void> {
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    if (this.touched.size === 0) return;
    const batch = new Map(this.touched);
    this.touched.clear();
    try {
      await this.store.touchKeys(batch);
    } catch (err) {
      this.log.warn('could not record key last_used_at', { err });
    }
  }
}

function redact(token: string): string {
  return token.length <= 8 ? '****' : `${token.slice(0, 4)}****${token.slice(-4)}`;
}
