/**
 * The HTTP server the namespace guests talk to on the host: GET /payload sends the test file; any other
 * request is an upload, answered with its length and sha256 ("LENGTH HEX\n").
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startPayloadServer(
  path: string,
  size: number,
  host: string,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/payload') {
      response.writeHead(200, { 'content-length': String(size) });
      createReadStream(path).pipe(response);
      return;
    }
    const hash = createHash('sha256');
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    request.on('end', () => response.end(`${length} ${hash.digest('hex')}\n`));
  });
  await new Promise<void>((done) => server.listen(0, host, () => done()));
  return { server, port: (server.address() as AddressInfo).port };
}
