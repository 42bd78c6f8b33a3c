/** Stage 1, authenticate: the bearer token (or `x-api-key`) becomes a principal, or the request ends with 401. */
import type { KeyService } from '../keys/key-service.js';
import type { Stage } from './compose.js';
import type { HeaderMap, RequestContext } from './context.js';

export function bearerToken(headers: HeaderMap): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}

export function authenticate(keys: KeyService): Stage<RequestContext> {
  // Not an async function: its frame would stay suspended for the whole call (the stage has
  // nothing to do on the way out), one more object graph per call in flight.
  return (ctx, next) => {
    const token = bearerToken(ctx.http.headers);
    const cached = keys.cachedPrincipal(token);
    if (cached) {
      ctx.principal = cached;
      return next();
    }
    return keys.authenticate(token).then((principal) => {
      ctx.principal = principal;
      return next();
    });
  };
}
