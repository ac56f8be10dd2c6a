/**
 * `net.BlockList` and `net.SocketAddress`: the same operations run on Node's classes and on tcpts's, and
 * every outcome — the value returned, the rules listed, or the error thrown (class, code, message) — must
 * be the same. Node 22's additions (`SocketAddress.parse`, `BlockList.isBlockList`) are checked against
 * their documented results, since the Node running the tests may be 20.
 */
import * as net from 'node:net';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import '../../src/api/sockets-node.js';
import { BlockList } from '../../src/api/net/block-list.js';
import { SocketAddress } from '../../src/api/net/socket-address.js';
import { simPair } from './helpers/sim-pair.js';

interface Classes {
  BlockList: new () => BlockListLike;
  SocketAddress: (new (
    options?: unknown,
  ) => SocketAddressLike) & { isSocketAddress(value: unknown): boolean };
}
interface BlockListLike {
  addAddress(address: unknown, family?: unknown): void;
  addRange(start: unknown, end: unknown, family?: unknown): void;
  addSubnet(network: unknown, prefix: unknown, family?: unknown): void;
  check(address: unknown, family?: unknown): boolean;
  readonly rules: string[];
}
interface SocketAddressLike {
  readonly address: string;
  readonly port: number;
  readonly family: string;
  readonly flowlabel: number;
  toJSON(): unknown;
}

/** One scenario: a list of steps on fresh objects; each step's outcome is recorded. */
type Scenario = (c: Classes, step: (fn: () => unknown) => void) => void;

const SCENARIOS: Record<string, Scenario> = {
  'rules of both families, newest first, and checks inside and outside them': (c, step) => {
    const list = new c.BlockList();
    step(() => list.addAddress('10.0.0.1'));
    step(() => list.addRange('10.0.0.5', '10.0.0.9'));
    step(() => list.addSubnet('192.168.0.0', 16));
    step(() => list.addAddress('::1', 'ipv6'));
    step(() => list.addSubnet('fd00::', 8, 'ipv6'));
    step(() => list.addAddress('::FFFF:1.2.3.4', 'ipv6'));
    step(() => list.addAddress('2001:DB8:0:0:0:0:0:1', 'ipv6'));
    step(() => list.addSubnet('10.1.2.3', 8));
    step(() => list.addRange('10.0.0.1', '10.0.0.1'));
    step(() => list.addAddress('1.2.3.5', 'IPv4'));
    step(() => list.rules);
    for (const [address, family] of [
      ['10.0.0.1'],
      ['10.0.0.2'],
      ['10.0.0.7'],
      ['10.0.0.10'],
      ['192.168.3.3'],
      ['192.169.0.0'],
      ['10.200.0.0'],
      ['::1', 'ipv6'],
      ['::2', 'ipv6'],
      ['fd12::1', 'ipv6'],
      ['fe80::1%eth0', 'ipv6'],
      ['::ffff:10.0.0.1', 'ipv6'],
      ['::ffff:a00:7', 'ipv6'],
      ['1.2.3.4'],
      ['1.2.3.5'],
      ['::1.2.3.5', 'ipv6'],
      ['2001:db8::1', 'ipv6'],
      ['10.0.0.1', 'ipv6'],
      ['::1'],
      ['1.2.3.4.5'],
      ['010.0.0.1'],
      ['x'],
      ['::1', 'x'],
    ]) {
      step(() => list.check(address, family));
    }
  },
  'cross-family matching through IPv4-mapped addresses': (c, step) => {
    const cases: Array<[(list: BlockListLike) => void, string, string | undefined]> = [
      [(l) => l.addSubnet('::', 0, 'ipv6'), '1.2.3.4', undefined],
      [(l) => l.addSubnet('::', 96, 'ipv6'), '1.2.3.4', undefined],
      [(l) => l.addSubnet('::ffff:0:0', 96, 'ipv6'), '1.2.3.4', undefined],
      [(l) => l.addSubnet('::ffff:0:0', 80, 'ipv6'), '1.2.3.4', undefined],
      [(l) => l.addSubnet('::ffff:10.0.0.0', 104, 'ipv6'), '10.0.0.1', undefined],
      [(l) => l.addRange('::ffff:1.2.3.0', '::ffff:1.2.3.9', 'ipv6'), '1.2.3.4', undefined],
      [(l) => l.addRange('1.2.3.0', '1.2.3.9'), '::ffff:1.2.3.4', 'ipv6'],
      [(l) => l.addSubnet('0.0.0.0', 0), '::1', 'ipv6'],
      [(l) => l.addSubnet('0.0.0.0', 0), '::1.2.3.4', 'ipv6'],
      [(l) => l.addSubnet('10.0.0.0', 8), '::ffff:10.9.9.9', 'ipv6'],
      [(l) => l.addSubnet('2001:db8::', 64, 'ipv6'), '2001:db8::ffff:1', 'ipv6'],
      [(l) => l.addSubnet('2001:db8::', 64, 'ipv6'), '2001:db9::1', 'ipv6'],
      [(l) => l.addSubnet('2001:db8::', 128, 'ipv6'), '2001:db8::', 'ipv6'],
    ];
    for (const [setup, address, family] of cases) {
      const list = new c.BlockList();
      setup(list);
      step(() => list.check(address, family));
    }
  },
  'SocketAddress objects as arguments': (c, step) => {
    const list = new c.BlockList();
    const ten = new c.SocketAddress({ address: '10.0.0.1', port: 80 });
    step(() => list.addAddress(ten));
    step(() => list.addAddress(new c.SocketAddress({ address: '::2', family: 'ipv6' })));
    step(() =>
      list.addRange(
        new c.SocketAddress({ address: '10.0.0.1' }),
        new c.SocketAddress({ address: '10.0.0.3' }),
      ),
    );
    step(() => list.addSubnet(new c.SocketAddress({ address: '10.1.0.0' }), 16));
    step(() => list.addSubnet(new c.SocketAddress({ address: '::', family: 'ipv6' }), 100));
    step(() => list.rules);
    step(() => list.check(ten));
    step(() => list.check(new c.SocketAddress({ address: '10.0.0.2' })));
    step(() => list.check(new c.SocketAddress({ address: '10.0.0.2' }), 'x'));
    step(() => list.check(new c.SocketAddress({ address: '::1', family: 'ipv6' })));
  },
  'BlockList argument errors': (c, step) => {
    const list = new c.BlockList();
    step(() => list.addAddress(1));
    step(() => list.addAddress('x'));
    step(() => list.addAddress('1.2.3.4', 'ipv7'));
    step(() => list.addAddress('1.2.3.4', 4));
    step(() => list.addAddress('1.2.3.4', null));
    step(() => list.addAddress('::1', 'ipv4'));
    step(() => list.addRange('10.0.0.9', '10.0.0.5'));
    step(() => list.addRange('::2', '::1', 'ipv6'));
    step(() => list.addRange(new c.SocketAddress(), '1.1.1.1'));
    step(() => list.addRange(1, 2));
    step(() => list.addRange('10.0.0.0', 5));
    step(() => list.addRange('10.0.0.0', '10.0.0.1', 5));
    step(() => list.addRange('1.1.1.1', 'x'));
    step(() => list.addRange('10.0.0.1', '::1'));
    step(() => list.addSubnet('10.0.0.0', 33));
    step(() => list.addSubnet('10.0.0.0', -1));
    step(() => list.addSubnet('10.0.0.0', 8.5));
    step(() => list.addSubnet('10.0.0.0', '8'));
    step(() => list.addSubnet('fd00::', 129, 'ipv6'));
    step(() => list.addSubnet('10.0.0.0', 8, 'ipv6'));
    step(() => list.addSubnet('10.0.0.0', 8, 5));
    step(() => list.addSubnet(1, 2));
    step(() => list.addSubnet('x', 2));
    step(() => list.addSubnet(new c.SocketAddress(), 33));
    step(() => list.check(1));
    step(() => list.check('10.0.0.0', 5));
    step(() => list.rules);
  },
  'SocketAddress: defaults, normalisation, validation': (c, step) => {
    step(() => new c.SocketAddress().toJSON());
    step(() => new c.SocketAddress({ family: 'ipv6' }).toJSON());
    step(() => new c.SocketAddress({ address: '::1', family: 'ipv6', flowlabel: 5, port: 9 }).toJSON());
    for (const address of [
      '1.2.3.4',
      '01.2.3.4',
      '1.2.3',
      '::ffff:1.2.3.4',
      'FD00::1',
      'fe80::1%eth0',
      '0:0:0:0:0:0:0:1',
      '::',
      '2001:db8:0:0:1:0:0:1',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      step(() => new c.SocketAddress({ address, family: address.includes(':') ? 'ipv6' : 'ipv4' }).address);
    }
    step(() => new c.SocketAddress({ address: '::1' }));
    step(() => new c.SocketAddress({ address: '1.2.3.4', family: 'ipv6' }));
    step(() => new c.SocketAddress({ address: 1 }));
    step(() => new c.SocketAddress({ address: 'x' }));
    step(() => new c.SocketAddress({ port: 70000 }));
    step(() => new c.SocketAddress({ port: 1.5 }));
    step(() => new c.SocketAddress({ port: -1 }));
    step(() => new c.SocketAddress({ family: 'ipv5' }));
    step(() => new c.SocketAddress({ family: 4 }));
    step(() => new c.SocketAddress({ family: 'IPv4' }));
    step(() => new c.SocketAddress({ family: 'IPV6' }).toJSON());
    step(() => new c.SocketAddress(1));
    step(() => new c.SocketAddress(null));
    step(() => new c.SocketAddress({ flowlabel: -1 }));
    step(() => new c.SocketAddress({ flowlabel: 1.5 }));
    step(() => new c.SocketAddress({ flowlabel: '1' }));
    step(() => new c.SocketAddress({ flowlabel: 2 ** 32 }));
    step(() => c.SocketAddress.isSocketAddress(new c.SocketAddress()));
    step(() =>
      c.SocketAddress.isSocketAddress({ address: '1.2.3.4', port: 0, family: 'ipv4', flowlabel: 0 }),
    );
    step(() => JSON.stringify(new c.SocketAddress({ address: '10.0.0.1', port: 80 })));
    step(() => Object.keys(new c.SocketAddress()));
    step(() => inspect(new c.SocketAddress({ address: '10.0.0.1', port: 80 })));
  },
  'inspect() output': (c, step) => {
    const list = new c.BlockList();
    list.addAddress('10.0.0.1');
    list.addSubnet('fd00::', 8, 'ipv6');
    step(() => inspect(list));
    step(() => inspect(new c.BlockList()));
    step(() => inspect({ deep: { deeper: { list } } }));
    step(() => Object.keys(list));
  },
};

/** What a step did, in comparable form. */
function outcome(fn: () => unknown): unknown {
  try {
    const value = fn();
    return { value };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { error: [e.constructor.name, e.code, e.message] };
  }
}

function run(classes: Classes, scenario: Scenario): unknown[] {
  const outcomes: unknown[] = [];
  scenario(classes, (fn) => outcomes.push(outcome(fn)));
  return outcomes;
}

const nodeClasses = { BlockList: net.BlockList, SocketAddress: net.SocketAddress } as unknown as Classes;
const tcptsClasses = { BlockList, SocketAddress } as unknown as Classes;

for (const [name, scenario] of Object.entries(SCENARIOS)) {
  test(`BlockList/SocketAddress as Node's: ${name}`, () => {
    expect(run(tcptsClasses, scenario)).toEqual(run(nodeClasses, scenario));
  });
}

test("Node 22's SocketAddress.parse and BlockList.isBlockList", () => {
  expect(SocketAddress.parse('10.0.0.1:80')?.toJSON()).toEqual({
    address: '10.0.0.1',
    port: 80,
    family: 'ipv4',
    flowlabel: 0,
  });
  expect(SocketAddress.parse('[fd00::1]:443')?.toJSON()).toEqual({
    address: 'fd00::1',
    port: 443,
    family: 'ipv6',
    flowlabel: 0,
  });
  expect(SocketAddress.parse('10.0.0.1')?.port).toBe(0);
  expect(SocketAddress.parse('example.test:80')).toBe(undefined);
  expect(SocketAddress.parse('10.0.0.1:99999')).toBe(undefined);
  expect(() => SocketAddress.parse(1 as unknown as string)).toThrow(
    expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
  );
  expect(BlockList.isBlockList(new BlockList())).toBe(true);
  expect(BlockList.isBlockList({ check: () => true, rules: [] })).toBe(false);
});

describe('the blockList options of Node 22 (over a simulated link, on virtual time)', () => {
  test('a server closes connections from a listed peer at once and accepts the others', async () => {
    const pair = simPair();
    const blockList = new pair.server.net.BlockList();
    blockList.addSubnet('10.0.0.0', 30);
    await pair.run(async () => {
      let accepted = 0;
      const server = pair.server.net.createServer({ blockList }, () => accepted++);
      expect(server.blockList).toBe(blockList);
      await new Promise<void>((resolve) => server.listen(80, resolve));
      const client = pair.client.net.connect(80, pair.serverAddress);
      const log: string[] = [];
      for (const event of ['connect', 'end', 'error', 'close']) client.on(event, () => log.push(event));
      client.resume();
      await new Promise((resolve) => client.once('close', resolve));
      expect(log).toEqual(['connect', 'end', 'close']);
      expect(accepted).toBe(0);
      blockList.addAddress('10.0.0.9');
      expect(blockList.check(pair.clientAddress)).toBe(true);
      // Rules are read at each connection: an unlisted peer is served.
      const open = new pair.server.net.BlockList();
      const other = pair.server.net.createServer({ blockList: open }, (socket) => socket.end('hi'));
      await new Promise<void>((resolve) => other.listen(81, resolve));
      const served = pair.client.net.connect(81, pair.serverAddress);
      served.setEncoding('utf8');
      let text = '';
      served.on('data', (chunk: string) => {
        text += chunk;
      });
      await new Promise((resolve) => served.once('close', resolve));
      expect(text).toBe('hi');
      server.close();
      other.close();
    });
  });

  test('a socket refuses a listed address with ERR_IP_BLOCKED; with several answers it skips to the next', async () => {
    const pair = simPair();
    const blockList = new pair.client.net.BlockList();
    blockList.addAddress('10.0.0.9');
    blockList.addAddress(pair.serverAddress);
    await pair.run(async () => {
      const server = pair.server.net.createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(80, resolve));
      const refused = pair.client.net.connect({ port: 80, host: pair.serverAddress, blockList });
      const log: unknown[][] = [];
      for (const event of ['connectionAttempt', 'connect', 'error', 'close']) {
        refused.on(event, (...args: unknown[]) => log.push([event, ...args]));
      }
      await new Promise((resolve) => refused.once('close', resolve));
      const error = log.find(([event]) => event === 'error')?.[1] as Error & { code: string };
      expect([error.constructor, error.code, error.message]).toEqual([
        Error,
        'ERR_IP_BLOCKED',
        `IP(${pair.serverAddress}) is blocked by net.BlockList`,
      ]);
      expect(log.map(([event]) => event)).toEqual(['error', 'close']);
      // A name answering a listed address first: that attempt fails, the next address connects.
      const partial = new pair.client.net.BlockList();
      partial.addAddress('10.0.0.9');
      const skipping = pair.client.net.connect({
        port: 80,
        host: 'two.test',
        blockList: partial,
        // Answers asynchronously, as dns.lookup does.
        lookup: (_host, _options, callback) =>
          process.nextTick(() =>
            (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
              { address: '10.0.0.9', family: 4 },
              { address: pair.serverAddress, family: 4 },
            ]),
          ),
      });
      const events: unknown[][] = [];
      for (const event of ['connectionAttempt', 'connectionAttemptFailed', 'connect']) {
        skipping.on(event, (...args: unknown[]) =>
          events.push([
            event,
            ...args.map((a) => (a instanceof Error ? (a as Error & { code: string }).code : a)),
          ]),
        );
      }
      skipping.resume();
      await new Promise((resolve) => skipping.once('close', resolve));
      expect(events).toEqual([
        ['connectionAttemptFailed', '10.0.0.9', 80, 4, 'ERR_IP_BLOCKED'],
        ['connectionAttempt', pair.serverAddress, 80, 4],
        ['connect'],
      ]);
      expect(skipping.autoSelectFamilyAttemptedAddresses).toEqual([`${pair.serverAddress}:80`]);
      server.close();
    });
  });

  test('the option takes a BlockList (tcpts’s or Node’s) and nothing else', () => {
    const { client } = simPair();
    expect(() => client.net.createServer({ blockList: {} as never })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_TYPE',
        message:
          'The "options.blockList" property must be an instance of net.BlockList. Received an instance of Object',
      }),
    );
    expect(() => new client.net.Socket({ blockList: 'x' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    const nodeList = new net.BlockList();
    expect(new client.net.Socket({ blockList: nodeList as never }).blockList).toBe(nodeList);
  });
});
