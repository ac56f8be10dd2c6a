/**
 * Argument validation of every method of `net` and `dgram`, written once as calls that Node rejects
 * synchronously. The differential suite (node-validation.test.ts) makes each call against Node's own
 * modules and against tcpts's and requires the same outcome: the same error class, `name`, `code` and
 * message text (and `errno`/`syscall` for system errors). Node's documentation and its own behaviour on
 * this machine are the specification; no expected text is copied here, the live Node decides.
 */
import type { EventEmitter } from 'node:events';

/** What a case may touch: the two modules under test, and a list of things to close afterwards. */
export interface ValidationModules {
  readonly net: Record<string, unknown> & {
    Socket: new (options?: unknown) => EventEmitter & Record<string, (...args: unknown[]) => unknown>;
    createServer(...args: unknown[]): EventEmitter & Record<string, (...args: unknown[]) => unknown>;
    connect(...args: unknown[]): EventEmitter & { destroy(): void };
  };
  readonly dgram: {
    createSocket(...args: unknown[]): EventEmitter & Record<string, (...args: unknown[]) => unknown>;
  };
  /** Objects the case created, closed after it ran (sockets destroyed, servers and dgram sockets closed). */
  readonly created: unknown[];
}

export interface ValidationCase {
  readonly name: string;
  call(m: ValidationModules): unknown;
}

type Call = (m: ValidationModules) => unknown;

/** net.connect(options) with the socket kept for cleanup. */
const connect =
  (...args: unknown[]): Call =>
  (m) => {
    const socket = new m.net.Socket();
    m.created.push(socket);
    return (socket.connect as (...a: unknown[]) => unknown)(...args);
  };

const netConnect =
  (...args: unknown[]): Call =>
  (m) => {
    const socket = m.net.connect(...args);
    m.created.push(socket);
    return socket;
  };

/** A fresh net.Socket, then `method(...args)`. */
const onSocket =
  (method: string, ...args: unknown[]): Call =>
  (m) => {
    const socket = new m.net.Socket();
    m.created.push(socket);
    return socket[method]!(...args);
  };

/** A fresh net.Server, then `method(...args)`. */
const onServer =
  (method: string, ...args: unknown[]): Call =>
  (m) => {
    const server = m.net.createServer();
    m.created.push(server);
    return server[method]!(...args);
  };

/** A fresh udp4 socket, then `method(...args)`. */
const onDgram =
  (method: string, ...args: unknown[]): Call =>
  (m) => {
    const socket = m.dgram.createSocket('udp4');
    m.created.push(socket);
    return socket[method]!(...args);
  };

const longString = 'a'.repeat(60);
function namedFunction() {}

const badPorts: Array<[string, unknown]> = [
  ['-1', -1],
  ['1.5', 1.5],
  ['65536', 65536],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ["'abc' (in options)", 'abc'],
  ["'65536'", '65536'],
  ["' '", ' '],
  ['a long string', longString],
  ['true', true],
  ['{}', {}],
  ['[1]', [1]],
  ['a null-prototype object', Object.create(null)],
  ['a function', namedFunction],
  ['a symbol', Symbol('port')],
  ['a bigint', 5n],
];

export const validationCases: readonly ValidationCase[] = [
  // net.connect / socket.connect ------------------------------------------------------------------
  ...badPorts.map(([label, port]) => ({
    name: `net.connect({ port: ${label} })`,
    call: netConnect({ port }),
  })),
  ...badPorts
    .filter(([, port]) => typeof port === 'number')
    .map(([label, port]) => ({ name: `net.connect(${label})`, call: netConnect(port) })),
  { name: 'net.connect({})', call: netConnect({}) },
  { name: 'socket.connect() without arguments', call: connect() },
  { name: 'socket.connect({ host }) without a port', call: connect({ host: '127.0.0.1' }) },
  { name: 'net.connect({ host: 5 })', call: netConnect({ port: 80, host: 5 }) },
  { name: 'net.connect({ family: 5 })', call: netConnect({ port: 80, family: 5 }) },
  { name: "net.connect({ family: 'IPv5' })", call: netConnect({ port: 80, family: 'IPv5' }) },
  { name: "net.connect({ localAddress: 'foo' })", call: netConnect({ port: 80, localAddress: 'foo' }) },
  { name: "net.connect({ localAddress: '1.2.3' })", call: netConnect({ port: 80, localAddress: '1.2.3' }) },
  { name: "net.connect({ localPort: 'x' })", call: netConnect({ port: 80, localPort: 'x' }) },
  { name: 'net.connect({ localPort: true })', call: netConnect({ port: 80, localPort: true }) },
  { name: 'net.connect({ lookup: 5 })', call: netConnect({ port: 80, host: 'x.test', lookup: 5 }) },
  { name: 'net.connect({ timeout: -1 })', call: netConnect({ port: 80, timeout: -1 }) },
  { name: "net.connect({ timeout: 'x' })", call: netConnect({ port: 80, timeout: 'x' }) },
  { name: 'net.connect({ signal: 1 })', call: netConnect({ port: 80, signal: 1 }) },
  { name: 'new net.Socket({ objectMode: true })', call: (m) => new m.net.Socket({ objectMode: true }) },
  {
    name: 'new net.Socket({ readableObjectMode: true })',
    call: (m) => new m.net.Socket({ readableObjectMode: true }),
  },
  {
    name: "new net.Socket({ writableObjectMode: 'yes' })",
    call: (m) => new m.net.Socket({ writableObjectMode: 'yes' }),
  },
  {
    name: 'net.connect({ hints: 42 | valid flags }) (the default lookup checks them)',
    call: netConnect({ port: 80, host: 'x.test', hints: 56 + 42 }),
  },
  { name: "net.connect({ hints: '8' })", call: netConnect({ port: 80, host: 'x.test', hints: '8' }) },
  {
    name: "net.connect({ autoSelectFamily: 'x' })",
    call: netConnect({ port: 80, host: 'x.test', autoSelectFamily: 'x' }),
  },
  {
    name: 'net.connect({ autoSelectFamilyAttemptTimeout: 0 })',
    call: netConnect({ port: 80, host: 'x.test', autoSelectFamilyAttemptTimeout: 0 }),
  },
  {
    name: 'net.connect({ autoSelectFamilyAttemptTimeout: 1.5 })',
    call: netConnect({ port: 80, host: 'x.test', autoSelectFamilyAttemptTimeout: 1.5 }),
  },
  {
    name: "net.connect({ autoSelectFamilyAttemptTimeout: 'x' })",
    call: netConnect({ port: 80, host: 'x.test', autoSelectFamilyAttemptTimeout: 'x' }),
  },
  // Socket methods ------------------------------------------------------------------------------------
  { name: 'new Socket({ signal: 1 })', call: (m) => new m.net.Socket({ signal: 1 }) },
  { name: "new Socket({ signal: 'x' })", call: (m) => new m.net.Socket({ signal: 'x' }) },
  { name: 'socket.setTimeout(-1)', call: onSocket('setTimeout', -1) },
  { name: "socket.setTimeout('x')", call: onSocket('setTimeout', 'x') },
  { name: 'socket.setTimeout(Infinity)', call: onSocket('setTimeout', Number.POSITIVE_INFINITY) },
  { name: 'socket.setTimeout(NaN)', call: onSocket('setTimeout', Number.NaN) },
  { name: "socket.setTimeout(10, 'x')", call: onSocket('setTimeout', 10, 'x') },
  { name: 'socket.setTimeout(0, 5)', call: onSocket('setTimeout', 0, 5) },
  { name: 'socket.write(5)', call: onSocket('write', 5) },
  { name: 'socket.write(null)', call: onSocket('write', null) },
  { name: "socket.write('x', 'bogus-encoding')", call: onSocket('write', 'x', 'bogus-encoding') },
  // net.Server ---------------------------------------------------------------------------------------
  { name: 'net.createServer(5)', call: (m) => m.net.createServer(5) },
  { name: "net.createServer('x')", call: (m) => m.net.createServer('x') },
  {
    name: "net.createServer({ highWaterMark: 'x' })",
    call: (m) => m.net.createServer({ highWaterMark: 'x' }),
  },
  {
    name: "net.createServer({ keepAliveInitialDelay: 'x' })",
    call: (m) => m.net.createServer({ keepAliveInitialDelay: 'x' }),
  },
  ...badPorts
    .filter(([, port]) => typeof port === 'number' || typeof port === 'string')
    .filter(([label]) => label !== "'abc' (in options)" && label !== 'a long string')
    .map(([label, port]) => ({
      name: `server.listen({ port: ${label} })`,
      call: onServer('listen', { port }),
    })),
  { name: 'server.listen(-1)', call: onServer('listen', -1) },
  { name: 'server.listen(65536)', call: onServer('listen', 65536) },
  { name: 'server.listen({})', call: onServer('listen', {}) },
  { name: 'server.listen({ host })', call: onServer('listen', { host: '127.0.0.1' }) },
  { name: 'server.listen({ port: true })', call: onServer('listen', { port: true }) },
  { name: 'server.listen(true)', call: onServer('listen', true) },
  { name: 'server.listen({ port: {} })', call: onServer('listen', { port: {} }) },
  { name: 'server.listen({ port: 0, host: 5 })', call: onServer('listen', { port: 0, host: 5 }) },
  { name: 'server.listen({ port: 0, signal: 1 })', call: onServer('listen', { port: 0, signal: 1 }) },
  {
    name: 'server.listen() twice',
    call: (m) => {
      const server = m.net.createServer();
      m.created.push(server);
      server.listen!(0);
      return server.listen!(0);
    },
  },
  // Module functions -----------------------------------------------------------------------------------
  {
    name: "net.setDefaultAutoSelectFamily('x')",
    call: (m) => (m.net.setDefaultAutoSelectFamily as (v: unknown) => void)('x'),
  },
  {
    name: 'net.setDefaultAutoSelectFamily()',
    call: (m) => (m.net.setDefaultAutoSelectFamily as (v?: unknown) => void)(),
  },
  ...[0, -1, 1.5, 'x', 2 ** 31].map((value) => ({
    name: `net.setDefaultAutoSelectFamilyAttemptTimeout(${String(value)})`,
    call: (m: ValidationModules) =>
      (m.net.setDefaultAutoSelectFamilyAttemptTimeout as (v: unknown) => void)(value),
  })),
  // dgram.createSocket ---------------------------------------------------------------------------------
  { name: "dgram.createSocket('udp5')", call: (m) => m.dgram.createSocket('udp5') },
  { name: 'dgram.createSocket(5)', call: (m) => m.dgram.createSocket(5) },
  { name: 'dgram.createSocket({})', call: (m) => m.dgram.createSocket({}) },
  { name: 'dgram.createSocket()', call: (m) => m.dgram.createSocket() },
  {
    name: "dgram.createSocket({ recvBufferSize: 'x' })",
    call: (m) => m.dgram.createSocket({ type: 'udp4', recvBufferSize: 'x' }),
  },
  {
    name: "dgram.createSocket({ sendBufferSize: 'x' })",
    call: (m) => m.dgram.createSocket({ type: 'udp4', sendBufferSize: 'x' }),
  },
  {
    name: 'dgram.createSocket({ lookup: 5 })',
    call: (m) => m.dgram.createSocket({ type: 'udp4', lookup: 5 }),
  },
  {
    name: 'dgram.createSocket({ signal: 5 })',
    call: (m) => m.dgram.createSocket({ type: 'udp4', signal: 5 }),
  },
  // dgram socket methods ----------------------------------------------------------------------------
  { name: "send('x') without a port", call: onDgram('send', 'x') },
  { name: "send('x', 0, '127.0.0.1')", call: onDgram('send', 'x', 0, '127.0.0.1') },
  { name: "send('x', 65536, '127.0.0.1')", call: onDgram('send', 'x', 65536, '127.0.0.1') },
  { name: "send('x', -1, '127.0.0.1')", call: onDgram('send', 'x', -1, '127.0.0.1') },
  { name: "send(5, 80, '127.0.0.1')", call: onDgram('send', 5, 80, '127.0.0.1') },
  { name: "send({}, 80, '127.0.0.1')", call: onDgram('send', {}, 80, '127.0.0.1') },
  { name: "send([5], 80, '127.0.0.1')", call: onDgram('send', [5], 80, '127.0.0.1') },
  { name: "send('x', 80, 5)", call: onDgram('send', 'x', 80, 5) },
  { name: 'send(buffer, 0, 1, 0, address)', call: onDgram('send', Buffer.from('x'), 0, 1, 0, '127.0.0.1') },
  { name: "setTTL('x')", call: onDgram('setTTL', 'x') },
  { name: 'setTTL(5) before bind', call: onDgram('setTTL', 5) },
  { name: "setMulticastTTL('x')", call: onDgram('setMulticastTTL', 'x') },
  { name: 'setMulticastTTL(5) before bind', call: onDgram('setMulticastTTL', 5) },
  { name: 'setBroadcast(true) before bind', call: onDgram('setBroadcast', true) },
  { name: 'setMulticastLoopback(true) before bind', call: onDgram('setMulticastLoopback', true) },
  { name: 'setMulticastInterface(5)', call: onDgram('setMulticastInterface', 5) },
  { name: "setMulticastInterface('1.2.3.4') before bind", call: onDgram('setMulticastInterface', '1.2.3.4') },
  { name: 'connect(-1)', call: onDgram('connect', -1) },
  { name: 'connect(0)', call: onDgram('connect', 0) },
  { name: "connect('x')", call: onDgram('connect', 'x') },
  { name: 'addMembership()', call: onDgram('addMembership') },
  { name: 'dropMembership()', call: onDgram('dropMembership') },
  { name: 'addSourceSpecificMembership()', call: onDgram('addSourceSpecificMembership') },
  { name: "addSourceSpecificMembership(5, 'x')", call: onDgram('addSourceSpecificMembership', 5, 'x') },
  {
    name: "addSourceSpecificMembership('1.2.3.4', 5)",
    call: onDgram('addSourceSpecificMembership', '1.2.3.4', 5),
  },
  { name: 'dropSourceSpecificMembership()', call: onDgram('dropSourceSpecificMembership') },
  {
    name: "dropSourceSpecificMembership('1.2.3.4', 5)",
    call: onDgram('dropSourceSpecificMembership', '1.2.3.4', 5),
  },
  { name: 'setSendBufferSize(5) before bind', call: onDgram('setSendBufferSize', 5) },
  { name: 'setRecvBufferSize(5) before bind', call: onDgram('setRecvBufferSize', 5) },
  { name: "setSendBufferSize('x')", call: onDgram('setSendBufferSize', 'x') },
  { name: 'setRecvBufferSize(-1)', call: onDgram('setRecvBufferSize', -1) },
  { name: 'getSendBufferSize() before bind', call: onDgram('getSendBufferSize') },
  { name: 'getRecvBufferSize() before bind', call: onDgram('getRecvBufferSize') },
  { name: 'address() before bind', call: onDgram('address') },
  { name: 'remoteAddress() unconnected', call: onDgram('remoteAddress') },
  { name: 'disconnect() unconnected', call: onDgram('disconnect') },
  {
    name: 'bind() twice',
    call: (m) => {
      const socket = m.dgram.createSocket('udp4');
      m.created.push(socket);
      socket.bind!(0, '127.0.0.1');
      return socket.bind!(0, '127.0.0.1');
    },
  },
  {
    name: 'close() twice',
    call: (m) => {
      const socket = m.dgram.createSocket('udp4');
      socket.close!();
      return socket.close!();
    },
  },
  {
    name: 'send() after close()',
    call: (m) => {
      const socket = m.dgram.createSocket('udp4');
      socket.close!();
      return socket.send!('x', 80, '127.0.0.1');
    },
  },
  { name: "sendto('x', 'a', 1, 80, address)", call: onDgram('sendto', 'x', 'a', 1, 80, '127.0.0.1') },
  { name: "sendto('x', 0, 1, 80, 5)", call: onDgram('sendto', 'x', 0, 1, 80, 5) },
  // More arguments of every method (each one checked against the live Node: it throws) ---------------
  { name: 'socket.end(5)', call: onSocket('end', 5) },
  { name: "socket.write('x', 'bogus-encoding')", call: onSocket('write', 'x', 'bogus-encoding') },
  { name: "socket.setTimeout(10, 'x')", call: onSocket('setTimeout', 10, 'x') },
  { name: "new net.Socket({ signal: 'x' })", call: (m) => new m.net.Socket({ signal: 'x' }) },
  { name: "new net.Socket({ highWaterMark: 'x' })", call: (m) => new m.net.Socket({ highWaterMark: 'x' }) },
  { name: 'new net.Socket({ highWaterMark: -1 })', call: (m) => new m.net.Socket({ highWaterMark: -1 }) },
  {
    name: "net.createServer({ keepAliveInitialDelay: 'x' })",
    call: (m) => m.net.createServer({ keepAliveInitialDelay: 'x' }),
  },
  { name: 'server.listen({ port: 80, signal: 1 })', call: onServer('listen', { port: 80, signal: 1 }) },
  { name: 'server.listen({ port: 80, host: 5 })', call: onServer('listen', { port: 80, host: 5 }) },
  { name: 'server.listen(true)', call: onServer('listen', true) },
  { name: "server.listen({ host: 'x' })", call: onServer('listen', { host: 'x' }) },
  { name: "server.listen({ port: '' })", call: onServer('listen', { port: '' }) },
  { name: 'net.connect({ hints: -1 })', call: netConnect({ port: 80, host: 'x.test', hints: -1 }) },
  { name: 'dgram bind({ port: 80, address: 5 })', call: onDgram('bind', { port: 80, address: 5 }) },
  { name: "dgram send('x', 70000, '127.0.0.1')", call: onDgram('send', 'x', 70000, '127.0.0.1') },
  { name: "dgram send('x', 80, 5)", call: onDgram('send', 'x', 80, 5) },
  { name: "dgram send('x', 80, '127.0.0.1', 'cb')", call: onDgram('send', 'x', 80, '127.0.0.1', 'cb') },
  { name: 'dgram send(5, 80)', call: onDgram('send', 5, 80) },
  { name: "dgram setTTL('x')", call: onDgram('setTTL', 'x') },
  { name: "dgram setMulticastTTL('x')", call: onDgram('setMulticastTTL', 'x') },
  { name: 'dgram setMulticastLoopback(true) before bind', call: onDgram('setMulticastLoopback', true) },
  { name: 'dgram setMulticastInterface(5)', call: onDgram('setMulticastInterface', 5) },
  { name: 'dgram addMembership(5)', call: onDgram('addMembership', 5) },
  { name: "dgram addMembership('224.0.0.1', 5)", call: onDgram('addMembership', '224.0.0.1', 5) },
  { name: 'dgram dropMembership(5)', call: onDgram('dropMembership', 5) },
  {
    name: "dgram addSourceSpecificMembership('1.2.3.4', '232.1.1.1', 5)",
    call: onDgram('addSourceSpecificMembership', '1.2.3.4', '232.1.1.1', 5),
  },
  { name: "dgram connect('x')", call: onDgram('connect', 'x') },
  { name: 'dgram connect(80, 5)', call: onDgram('connect', 80, 5) },
  { name: 'dgram connect(0)', call: onDgram('connect', 0) },
  {
    name: "dgram.createSocket({ type: 'udp4', signal: 'x' })",
    call: (m) => m.dgram.createSocket({ type: 'udp4', signal: 'x' }),
  },
  {
    name: "dgram.createSocket({ type: 'udp4', recvBufferSize: -1 })",
    call: (m) => m.dgram.createSocket({ type: 'udp4', recvBufferSize: -1 }),
  },
  {
    name: "dgram.createSocket({ type: 'udp4', sendBufferSize: 'x' })",
    call: (m) => m.dgram.createSocket({ type: 'udp4', sendBufferSize: 'x' }),
  },
  { name: "dgram.createSocket({ type: 'udp5' })", call: (m) => m.dgram.createSocket({ type: 'udp5' }) },
  { name: 'dgram.createSocket()', call: (m) => m.dgram.createSocket() },
  { name: 'dgram setRecvBufferSize(-1)', call: onDgram('setRecvBufferSize', -1) },
  { name: "dgram setSendBufferSize('x')", call: onDgram('setSendBufferSize', 'x') },
  {
    name: "net.setDefaultAutoSelectFamilyAttemptTimeout('x')",
    call: (m) => (m.net.setDefaultAutoSelectFamilyAttemptTimeout as (v: unknown) => void)('x'),
  },
  {
    name: 'net.setDefaultAutoSelectFamilyAttemptTimeout(-1)',
    call: (m) => (m.net.setDefaultAutoSelectFamilyAttemptTimeout as (v: unknown) => void)(-1),
  },
];

/** Strings for net.isIP / isIPv4 / isIPv6 whose answers must equal Node's. */
export const ipTexts: readonly unknown[] = [
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.0.0.1',
  '1.2.3',
  '01.2.3.4',
  '1.2.3.04',
  ' 1.2.3.4',
  '1.2.3.4 ',
  '::',
  '::1',
  '::anything',
  ':::',
  '1::2::3',
  'fe80::1%eth0',
  'fe80::1%',
  'fe80::1%eth0.0',
  'fe80::1%eth0@1',
  'fe80::1%eth 0',
  'fe80::1%lo:1',
  '::ffff:127.0.0.1',
  '::ffff:127.0.0.256',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::',
  '1:2:3:4:5:6::7:8',
  '12345::',
  'g::1',
  '',
  'localhost',
  5,
  null,
  undefined,
  {},
  // Node tests the string form: an object's toString() counts.
  { toString: () => '127.0.0.1' },
  { toString: () => '::ffff:1.2.3.4' },
];
