import { describe, expect, test } from 'vitest';
import { Stack } from '../../src/stack.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { ip, RecordingDevice } from './harness.js';

function twoInterfaceStack() {
  const stack = new Stack({ name: 'r', clock: new VirtualClock() });
  const eth0 = stack.addInterface(new RecordingDevice('r-eth0', 0x020000000001), { address: '10.0.1.1/24' });
  const eth1 = stack.addInterface(new RecordingDevice('r-eth1', 0x020000000002), {
    address: '192.168.7.1/30',
  });
  return { stack, eth0, eth1 };
}

describe('routing table', () => {
  test('connected routes come with the interfaces; lookup picks the longest prefix', () => {
    const { stack, eth0, eth1 } = twoInterfaceStack();
    stack.routes.add({ destination: '10.0.0.0/8', gateway: '192.168.7.2' });
    stack.routes.add({ destination: 'default', gateway: '10.0.1.254' });
    stack.routes.add({ destination: '10.0.2.0/24', gateway: '10.0.1.2' });

    expect(stack.routes.lookup(ip('10.0.1.77'))).toMatchObject({
      gateway: undefined,
      interface: eth0,
      origin: 'connected',
    });
    expect(stack.routes.lookup(ip('10.0.2.9'))).toMatchObject({ gateway: ip('10.0.1.2'), interface: eth0 });
    expect(stack.routes.lookup(ip('10.200.0.1'))).toMatchObject({
      gateway: ip('192.168.7.2'),
      interface: eth1,
    });
    expect(stack.routes.lookup(ip('8.8.8.8'))).toMatchObject({ gateway: ip('10.0.1.254'), prefixLength: 0 });
    expect(stack.routes.toString()).toBe(
      [
        '192.168.7.0/30 dev r-eth1',
        '10.0.1.0/24 dev r-eth0',
        '10.0.2.0/24 via 10.0.1.2 dev r-eth0',
        '10.0.0.0/8 via 192.168.7.2 dev r-eth1',
        'default via 10.0.1.254 dev r-eth0',
      ].join('\n'),
    );
  });

  test('without a default route an unknown destination has no route', () => {
    const { stack } = twoInterfaceStack();
    expect(stack.routes.lookup(ip('8.8.8.8'))).toBeUndefined();
    expect(stack.sendIp({ dst: ip('8.8.8.8'), protocol: 253 }, new Uint8Array(4))).toBe('ENETUNREACH');
    expect(stack.counters.IpOutNoRoutes).toBe(1);
  });

  test('among equal prefixes the lower metric wins; removing it exposes the other', () => {
    const { stack } = twoInterfaceStack();
    const slow = stack.routes.add({ destination: '172.16.0.0/12', gateway: '10.0.1.9', metric: 10 });
    const fast = stack.routes.add({ destination: '172.16.0.0/12', gateway: '192.168.7.2', metric: 1 });
    expect(stack.routes.lookup(ip('172.16.5.5'))).toBe(fast);
    expect(stack.routes.remove(fast)).toBe(true);
    expect(stack.routes.lookup(ip('172.16.5.5'))).toBe(slow);
    expect(stack.routes.remove(fast)).toBe(false);
  });

  test('host bits of the destination are cleared', () => {
    const { stack } = twoInterfaceStack();
    const route = stack.routes.add({ destination: '10.9.9.9/16', gateway: '10.0.1.5' });
    expect(route.destination).toBe(ip('10.9.0.0'));
  });

  test('bad input is refused with a code', () => {
    const { stack } = twoInterfaceStack();
    expect(() => stack.routes.add({ destination: '10.0.0.0/33', gateway: '10.0.1.5' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => stack.routes.add({ destination: '10.0.0.0', gateway: '10.0.1.5' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => stack.routes.add({ destination: 'default', gateway: '172.20.0.1' })).toThrow(
      expect.objectContaining({ code: 'ENETUNREACH' }),
    );
    expect(() => stack.routes.add({ destination: '10.5.0.0/16', interface: 'nope' })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => stack.routes.add({ destination: '10.5.0.0/16', gateway: '10.0.1.5', metric: -1 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  test('removing an interface removes its routes', () => {
    const { stack, eth1 } = twoInterfaceStack();
    stack.routes.add({ destination: 'default', gateway: '192.168.7.2' });
    stack.removeInterface(eth1);
    expect(stack.routes.toString()).toBe('10.0.1.0/24 dev r-eth0');
  });

  test('an on-link route by interface name', () => {
    const { stack, eth1 } = twoInterfaceStack();
    const route = stack.routes.add({ destination: '203.0.113.0/24', interface: 'r-eth1' });
    expect(stack.routes.lookup(ip('203.0.113.40'))).toBe(route);
    expect(route).toMatchObject({ interface: eth1, gateway: undefined });
  });
});
