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

const WELL_KNOWN = '/.well-known/oauth-authorization-server';

export function createMetadataRoutes(deps: MetadataDeps): Router {
  const router = Router();
  // Without public_url the issuer comes from this request's headers: a shared cache must never hand one client's
  // Host header to everyone (cache poisoning), so only public_url's metadata may be cached publicly.
  const caching = deps.config.publicUrl ? 'public, max-age=300' : 'no-store';
  router.get([WELL_KNOWN, `/alexa${WELL_KNOWN}`, `${WELL_KNOWN}/*rest`], (req, res, next) => {
    const issuer = issuerFor(req, deps.config);
    // The path-suffixed form exists only for the issuer's own path (RFC 8414 §3.1): https://host/oauth has its
    // metadata at /.well-known/oauth-authorization-server/oauth, and no other suffix names an issuer of ours.
    const suffix = req.path.toLowerCase().startsWith(WELL_KNOWN) ? req.path.slice(WELL_KNOWN.length).replace(/\/$/, '') : '';
    if (suffix !== '' && suffix !== new URL(issuer).pathname.replace(/\/$/, '')) {
      next();
      return;
    }
    res.set('Cache-Control', caching).json(authorizationServerMetadata(issuer, deps.config.clients));
  });
  return router;
}
