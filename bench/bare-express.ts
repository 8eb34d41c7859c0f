/**
 * The ceiling: the same Express version as the server, one route per measured endpoint that parses the same
 * urlencoded body with the same limits and answers a fixed JSON of a token response's size. Nothing else (no
 * helmet, no rate limits, no store, no logs). Runs in its own process on 127.0.0.1:PORT (0: the kernel picks).
 */
import express from 'express';

const app = express();
app.disable('x-powered-by');
const body = {
  access_token: `${'0'.repeat(8)}.${'A'.repeat(43)}`,
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: `${'G'.repeat(22)}.${'R'.repeat(43)}`,
  scope: 'music.read music.control',
};
const formBody = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 });
for (const route of ['/alexa/token', '/alexa/introspect']) {
  app.post(route, formBody, (_req, res) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
  });
}
app.get(['/health', '/.well-known/oauth-authorization-server'], (_req, res) => {
  res.json({ status: 'ok' });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
