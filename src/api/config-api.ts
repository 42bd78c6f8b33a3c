/**
 * The running config, over HTTP (admin key):
 * - `GET /admin/config`: the config that runs, secrets redacted (see `config/redact.ts`),
 *   where it came from, when it was loaded, and the changed sections still waiting for a
 *   restart.
 * - `POST /admin/reload`: reads the config file again and applies it, as SIGHUP does.
 *   Answers what changed (`applied`) and what changed but waits for a restart
 *   (`restart_required`); an invalid config is a 422 `config_invalid` naming the bad keys,
 *   and the running config stays.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { requireAdmin } from './access.js';
import { adminActor, type AuditActor } from '../audit/audit-log.js';
import type { Config } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import type { ReloadResult } from '../config/reloader.js';
import type { KeyService } from '../keys/key-service.js';

export interface RunningConfig {
  config: Config;
  /** When it was loaded: the start or the last successful reload (ms since the epoch). */
  loadedAt: number;
  /** Sections changed in the file that keep their running values until a restart. */
  restartRequired: readonly string[];
}

export function configApi(deps: { keys: KeyService; reload: (by: AuditActor) => Promise<ReloadResult>; running: () => RunningConfig }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/admin/config', async (req) => {
      await requireAdmin(deps.keys, req);
      const r = deps.running();
      const { source, ...config } = r.config;
      return { object: 'config', source, loaded_at: new Date(r.loadedAt).toISOString(), restart_required: r.restartRequired, config: redactConfig(config) };
    });

    app.post('/admin/reload', async (req) => {
      await requireAdmin(deps.keys, req);
      return { object: 'config.reload', ...(await deps.reload(adminActor(req))) };
    });
  };
}
