/**
 * RFC 8414 metadata, at the root well-known path, the path-suffixed form for an issuer with a path, and under
 * /alexa/ for reverse proxies that forward only that prefix.
 */
import { Router } from 'express';
import { Config } from '../../config/config';
import { authorizationServerMetadata } from '../../oauth/metadata';
import { issuerFor } from '../request-context';

export interface MetadataDeps {
  config: Pick<Config, 'publicUrl' | 'clients'>;
}

export function createMetadataRoutes(deps: MetadataDeps): Router {
  const router = Router();
  const paths = [
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/*rest',
    '/alexa/.well-known/oauth-authorization-server',
  ];
  // Without public_url the issuer comes from this request's headers: a shared cache must never hand one client's
  // Host header to everyone (cache poisoning), so only public_url's metadata may be cached publicly.
  const caching = deps.config.publicUrl ? 'public, max-age=300' : 'no-store';
  router.get(paths, (req, res) => {
    res.set('Cache-Control', caching).json(authorizationServerMetadata(issuerFor(req, deps.config), deps.config.clients));
  });
  return router;
}
