import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import type { AuditEvent, Store } from '../store/types.js';
import { AuditLog } from './audit-log.js';

describe('AuditLog', () => {
  it('writes the event with its id, time and actor', async () => {
    const stored: AuditEvent[] = [];
    const store = { insertAuditEvent: async (e: AuditEvent) => void stored.push(e) } as unknown as Store;
    const audit = new AuditLog(store, createLogger('error', () => undefined), () => 'id-1', () => 42);
    await audit.record({ actor: 'admin', sourceIp: '10.0.0.1' }, 'key.revoke', 'key_1', { name: 'ci' });
    expect(stored).toEqual([{ id: 'id-1', at: 42, actor: 'admin', action: 'key.revoke', target: 'key_1', details: { name: 'ci' }, source_ip: '10.0.0.1' }]);
  });

  it('never rejects: an event the store refuses is logged whole at error level', async () => {
    const lines: string[] = [];
    const store = { insertAuditEvent: async () => Promise.reject(new Error('database is locked')) } as unknown as Store;
    const audit = new AuditLog(store, createLogger('error', (l) => void lines.push(l)), () => 'id-2', () => 7);
    await expect(audit.record({ actor: 'watch' }, 'config.reload', 'llmops.yaml', { applied: ['models'] })).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.msg ?? line.message).toBe('audit event not stored');
    expect(JSON.stringify(line)).toContain('database is locked');
    expect(line.event).toMatchObject({ id: 'id-2', actor: 'watch', action: 'config.reload', details: { applied: ['models'] } });
  });
});
