/**
 * Plain Node with one HTTP listener, answering GET /health and nothing else: what any server idles at before a line
 * of its own code. Runs on 127.0.0.1:PORT (0: the kernel picks).
 */
import http from 'node:http';

const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(req.url === '/health' ? '{"status":"ok"}' : '{}');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
