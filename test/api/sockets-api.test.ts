/**
 * The WinterTC Sockets API over tcpts, on virtual time: an exchange with exact bytes, the spec's argument
 * errors (TypeError, synchronously), a refused connection rejecting `opened` and `closed`, and
 * allowHalfOpen both ways (false: the peer's FIN closes our side too; true: we may still write).
 */
import { describe, expect, test } from 'vitest';
import '../../src/api/sockets-node.js';
import { socketsApi } from '../../src/api/sockets/sockets-api.js';
import { simPair } from './helpers/sim-pair.js';

async function readAll(readable: ReadableStream<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

describe('Sockets API connect()', () => {
  test('an exchange: opened reports the endpoints, bytes arrive exactly, close() settles closed', async () => {
    const pair = simPair();
    pair.server.net
      .createServer({ allowHalfOpen: true }, (s) => {
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d;
        });
        s.on('end', () => s.end(`you said: ${got}`));
      })
      .listen(7);
    const { connect } = socketsApi(pair.client);
    const result = await pair.run(async () => {
      const socket = connect('10.0.0.2:7', { allowHalfOpen: true });
      const info = await socket.opened;
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode('hello'));
      await writer.close();
      const reply = await readAll(socket.readable);
      await socket.close();
      return { info, reply };
    });
    expect(result.info.remoteAddress).toBe('10.0.0.2:7');
    expect(result.info.localAddress).toMatch(/^10\.0\.0\.1:\d+$/);
    expect(result.reply).toBe('you said: hello');
  });

  test.each([
    [':80', /hostname:port/],
    ['10.0.0.2', /hostname:port/],
    ['10.0.0.2:0', /port must be an integer from 1 to 65535/],
    ['10.0.0.2:70000', /port must be/],
  ])('connect(%j) throws a TypeError', (address, message) => {
    const { connect } = socketsApi(simPair().client);
    expect(() => connect(address)).toThrow(TypeError);
    expect(() => connect(address)).toThrow(message);
  });

  test('secureTransport other than off is refused with a TypeError', () => {
    const { connect } = socketsApi(simPair().client);
    expect(() => connect({ hostname: '10.0.0.2', port: 443 }, { secureTransport: 'on' })).toThrow(
      /secureTransport 'on' is not supported/,
    );
    const socket = connect({ hostname: '10.0.0.2', port: 443 });
    expect(() => socket.startTls()).toThrow(TypeError);
    void socket.close();
  });

  test('a refused connection rejects opened and closed with ECONNREFUSED', async () => {
    const pair = simPair();
    const { connect } = socketsApi(pair.client);
    const codes = await pair.run(async () => {
      const socket = connect({ hostname: '10.0.0.2', port: 9 });
      const opened = await socket.opened.then(
        () => 'opened',
        (e: Error & { code?: string }) => e.code,
      );
      const closed = await socket.closed.then(
        () => 'closed',
        (e: Error & { code?: string }) => e.code,
      );
      return [opened, closed];
    });
    expect(codes).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  test('allowHalfOpen false: the peer FIN closes our writable; true: we can still write after it', async () => {
    const pair = simPair();
    const seen: string[] = [];
    pair.server.net
      .createServer({ allowHalfOpen: true }, (s) => {
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d;
        });
        s.on('end', () => seen.push(got));
        s.end('bye'); // the server finishes first
      })
      .listen(7);
    const { connect } = socketsApi(pair.client);
    const outcome = await pair.run(async () => {
      const strict = connect('10.0.0.2:7');
      expect(await readAll(strict.readable)).toBe('bye');
      const strictWrite = await strict.writable
        .getWriter()
        .write(new TextEncoder().encode('late'))
        .then(
          () => 'written',
          (e: Error) => e.constructor.name,
        );
      const relaxed = connect('10.0.0.2:7', { allowHalfOpen: true });
      expect(await readAll(relaxed.readable)).toBe('bye');
      const writer = relaxed.writable.getWriter();
      await writer.write(new TextEncoder().encode('after your FIN'));
      await writer.close();
      await relaxed.closed;
      await strict.closed;
      await pair.delay(100);
      return strictWrite;
    });
    expect(outcome).toBe('TypeError');
    expect(seen.sort()).toEqual(['', 'after your FIN']);
  });
});
