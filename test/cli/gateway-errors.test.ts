/**
 * `tcpts gateway` refuses every misconfiguration before it opens anything, with a message saying what is
 * wrong, exit status 2 (usage) or 1 (a resource it could not get: a busy port).
 */
import net, { type AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { runTcpts } from './run-tcpts.js';

describe('tcpts gateway: misconfiguration', () => {
  test.each([
    [[], /say which link the guest is on/],
    [['--tap', 'a', '--stream-listen', 'unix:/tmp/x'], /one link at a time; got --tap and --stream-listen/],
    [['--dgram', '127.0.0.1:1'], /--dgram wants LOCAL,REMOTE/],
    [['--stream-connect', 'localhost'], /--stream-connect wants HOST:PORT/],
    [['--stream-listen', 'unix:'], /--stream-listen wants unix:PATH/],
    [['--websocket-listen', '70000'], /--websocket-listen wants an integer from 1 to 65535/],
    [['--tap', 't0', '--websocket-framing', 'stream'], /--websocket-framing goes with --websocket-listen/],
    [
      ['--websocket-listen', '8888', '--websocket-framing', 'lines'],
      /--websocket-framing wants message or stream; got 'lines'/,
    ],
    [['--tap', 't0', '--forward', 'udp:1:2'], /--forward wants tcp:HOSTPORT:GUESTPORT/],
    [['--tap', 't0', '--forward', 'tcp:0:22'], /--forward wants an integer from 1 to 65535; got '0'/],
    [
      ['--tap', 't0', '--ipv6-prefix', 'off', '--forward', 'tcp6:8022:22'],
      /--forward tcp6:8022:22 needs IPv6 \(--ipv6-prefix is off\)/,
    ],
    [['--tap', 't0', '--dhcp6', 'yes'], /--dhcp6 wants stateless, stateful or off; got 'yes'/],
    [['--tap', 't0', '--allow', '10.0.0.0/40'], /--allow: /],
    [['--tap', 't0', '--dns', 'resolver'], /--dns wants ADDR\[:PORT\]/],
    [['--tap', 't0', '--mtu', '100'], /--mtu wants an integer from 576 to 65521/],
  ])('%j', async (args, message) => {
    const result = await runTcpts(['gateway', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test('an address outside the guest network is refused', async () => {
    const server = net.createServer();
    await new Promise<void>((d) => server.listen(0, '127.0.0.1', () => d()));
    const port = (server.address() as AddressInfo).port;
    const result = await runTcpts([
      'gateway',
      '--stream-connect',
      `127.0.0.1:${port}`,
      '--dns-address',
      '192.168.1.1',
    ]);
    server.close();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DNS address 192.168.1.1 is not a free address of the guest network/);
  });

  test('a busy forward port and an unreachable stream server are reported', async () => {
    const busy = net.createServer();
    await new Promise<void>((d) => busy.listen(0, '127.0.0.1', () => d()));
    const busyPort = (busy.address() as AddressInfo).port;
    const refused = await runTcpts([
      'gateway',
      '--stream-connect',
      `127.0.0.1:${busyPort + 0}`,
      '--forward',
      `tcp:${busyPort}:22`,
    ]);
    // The stream server is the busy listener itself (it accepts), so the failure is the forward port.
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`--forward tcp:${busyPort}:22: .*EADDRINUSE`));
    busy.close();
    const closedPort = busyPort;
    const gone = await runTcpts(['gateway', '--stream-connect', `127.0.0.1:${closedPort}`]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/ECONNREFUSED/);
  });
});

describe('tcpts wisp: misconfiguration', () => {
  test.each([
    [[], /--port N is required/],
    [['--port', 'x'], /--port wants an integer from 0 to 65535/],
    [['--port', '1', '--host', 'localhost'], /--host wants an IPv4 address/],
    [['--port', '1', '--allow', 'nope'], /--allow: /],
  ])('%j', async (args, message) => {
    const result = await runTcpts(['wisp', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  test('a busy port is reported', async () => {
    const busy = net.createServer();
    await new Promise<void>((d) => busy.listen(0, '127.0.0.1', () => d()));
    const port = (busy.address() as AddressInfo).port;
    const result = await runTcpts(['wisp', '--port', String(port)]);
    busy.close();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot listen on 127.0.0.1:\d+: .*EADDRINUSE/);
  });
});
