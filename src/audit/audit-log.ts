/**
 * The audit log: who changed what and when — keys created, changed, rotated, revoked or given limits, config
 * reloads (applied or refused), cache clears. Each action is written to the store before
 * its answer goes out; a write that fails is logged at error level with the whole event, so
 * it is never lost silently (the action itself has happened and is not undone).
 *
 * @example
 * await audit.record({ actor: 'admin', sourceIp: req.ip }, 'key.revoke', id, { name });
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';
import type { AuditEvent, Store } from '../store/types.js';

/** Who acts: `admin` over HTTP (with the client's address), or the process itself (`signal:SIGHUP`, `watch`). */
export interface AuditActor {
  actor: string;
  sourceIp?: string | null;
}

/** The admin key's actions over HTTP. */
export function adminActor(req: FastifyRequest): AuditActor {
  return { actor: 'admin', sourceIp: req.ip };
}

export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly newId: () => string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Writes one event; never rejects. */
  async record(by: AuditActor, action: string, target: string | null, details: Record<string, unknown> | null = null): Promise<void> {
    const event: AuditEvent = { id: this.newId(), at: this.clock(), actor: by.actor, action, target, details, source_ip: by.sourceIp ?? null };
    try {
      await this.store.insertAuditEvent(event);
    } catch (err) {
      this.log.error('audit event not stored', { err, event });
    }
  }
}
