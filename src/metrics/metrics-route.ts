/**
 * `GET /metrics` in the Prometheus text format, as a Fastify plugin. Open by default, as
 * Prometheus scrapers expect (the gateway listens on 127.0.0.1 unless told otherwise);
 * with `metrics.auth: true` a scrape needs a valid key as a bearer token (the admin key or
 * any virtual key — e.g. one made for the scraper with no models).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { KeyService } from '../keys/key-service.js';
import { bearerToken } from '../pipeline/authenticate.js';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface MetricsRouteDeps {
  metrics: GatewayMetrics;
  keys: KeyService;
  auth: boolean;
}

/**
 * @example
 * app.register(metricsRoute({ metrics, keys, auth: false }));
 */
export function metricsRoute(deps: MetricsRouteDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/metrics', async (req, reply) => {
      if (deps.auth) await deps.keys.authenticate(bearerToken(req.headers));
      const text = await deps.metrics.registry.metrics();
      return reply.code(200).type(deps.metrics.registry.contentType).send(text);
    });
  };
}
