import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Scope } from '../tenants/api-key';
import { requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the admin API's authentication hook for every route under it. */
    principal: Principal | null;
  }
}

/** The OpenAPI security requirement of every authenticated route. */
export const BEARER_SECURITY = [{ apiKey: [] as string[] }];

/** Who a request is: on the listener, the tenant of its API key (TenantService.authenticate). */
export type Authenticate = (req: FastifyRequest) => Promise<Principal>;

/**
 * Authenticates every request of the instance it is added to (and its child plugins), else
 * 401. Routes then state their scope with `requireScope`.
 */
export function addApiKeyAuth(app: FastifyInstance, authenticate: Authenticate): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    req.principal = await authenticate(req);
  });
}

/** The request's principal (routes behind addApiKeyAuth). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Refusal('unauthenticated', 'an API key is required: Authorization: Bearer <key>');
  return req.principal;
}

/** A route's pre-handler: the key must carry `scope`, else 403. */
export function requireScope(scope: Scope): preHandlerAsyncHookHandler {
  return async (req) => {
    requireScopeOf(principalOf(req), scope);
  };
}
