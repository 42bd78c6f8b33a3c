/**
 * `POST /admin/reload` (admin key): reads the config file again and applies it, as SIGHUP
 * does. Answers what changed (`applied`) and what changed but waits for a restart
 * (`restart_required`); an invalid config is a 422 `config_invalid` naming the bad keys,
 * and the running config stays.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { LlmopsError } from '../errors.js';
import type { ReloadResult } from '../gateway.js';
import type { KeyService } from '../keys/key-service.js';
import { bearerToken } from '../pipeline/authenticate.js';

export function reloadApi(deps: { keys: KeyService; reload: () => Promise<ReloadResult> }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.post('/admin/reload', async (req) => {
      const p = await deps.keys.authenticate(bearerToken(req.headers));
      if (p.kind !== 'admin') throw new LlmopsError('admin_required', 'This endpoint needs the admin key (LLMOPS_ADMIN_KEY).');
      return { object: 'config.reload', ...(await deps.reload()) };
    });
  };
}
