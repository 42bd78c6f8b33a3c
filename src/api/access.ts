/**
 * Who may use the control plane's routes: the admin key (`/admin/*`, the audit log), or the
 * admin and keys with the `read` role (`/api/*` queries). One place says so for every route.
 */
import type { FastifyRequest } from 'fastify';
import { LlmopsError } from '../errors.js';
import type { KeyService, Principal } from '../keys/key-service.js';
import { bearerToken } from '../pipeline/authenticate.js';

/** The request's principal (401 for a missing, wrong, expired or revoked key). */
export function principalOf(keys: KeyService, req: FastifyRequest): Promise<Principal> {
  return keys.authenticate(bearerToken(req.headers));
}

/** The admin, else 403 `admin_required`. */
export async function requireAdmin(keys: KeyService, req: FastifyRequest): Promise<Principal> {
  const p = await principalOf(keys, req);
  if (p.kind !== 'admin') throw new LlmopsError('admin_required', 'This endpoint needs the admin key (LLMOPS_ADMIN_KEY).');
  return p;
}

/** The admin or a key with the `read` role, else 403 `admin_required`. */
export async function requireReader(keys: KeyService, req: FastifyRequest): Promise<Principal> {
  const p = await principalOf(keys, req);
  if (!p.canRead) throw new LlmopsError('admin_required', 'This endpoint needs the admin key or a key with the read role.');
  return p;
}
