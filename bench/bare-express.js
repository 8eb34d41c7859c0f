'use strict';
/**
 * The ceiling: the same Express version as the server, one route that parses the same urlencoded body with the
 * same limits and answers a fixed JSON of a token response's size. Nothing else (no helmet, no store, no logs).
 * Runs in its own process: PORT from the environment, prints "ready" once listening.
 */
const express = require('express');

const app = express();
app.disable('x-powered-by');
const body = {
  access_token: 'A'.repeat(43),
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: 'R'.repeat(43),
  scope: 'music.read music.control',
};
const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 });
for (const path of ['/alexa/token', '/alexa/introspect']) {
  app.post(path, form, (_req, res) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
  });
}
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
