// The peer: node-oidc-provider on Keyv over SQLite (WAL). DATA_DIR holds peer.sqlite and peer-secrets.json.
// Listens on HOST:PORT (PORT=0: the kernel picks). GET /health answers {"status":"ok"} (what the bench polls);
// GET /.well-known/oauth-authorization-server (the bench's drain path) is served as the discovery document.
import http from 'node:http';
import { createProvider } from './peer-config.mjs';

const dataDir = process.env.DATA_DIR;
if (!dataDir) throw new Error('DATA_DIR is required');
const { provider, store } = createProvider(dataDir);
provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err?.stack ?? err}\n`));
const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (req.url === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration';
  handler(req, res);
});
server.keepAliveTimeout = 5000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () =>
  server.close(() => {
    store.disconnect();
    process.exit(0);
  }),
);
