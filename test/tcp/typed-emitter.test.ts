import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../../src/tcp/typed-emitter.js';

type Events = { data: [number]; done: [] };

/** Exposes the protected emit for the tests. */
class Probe extends TypedEmitter<Events> {
  fire<K extends keyof Events>(event: K, ...args: Events[K]): void {
    this.emit(event, ...args);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in registration order, one or several, and forgets removed ones', () => {
    const probe = new Probe();
    const heard: string[] = [];
    const a = (n: number) => heard.push(`a${n}`);
    const b = (n: number) => heard.push(`b${n}`);
    const c = (n: number) => heard.push(`c${n}`);
    probe.fire('data', 0);
    probe.on('data', a);
    probe.fire('data', 1);
    probe.on('data', b).on('data', c);
    expect(probe.listenerCount('data')).toBe(3);
    probe.fire('data', 2);
    probe.off('data', b);
    probe.fire('data', 3);
    probe.off('data', a);
    expect(probe.listenerCount('data')).toBe(1);
    probe.fire('data', 4);
    probe.off('data', a);
    probe.off('data', c);
    probe.fire('data', 5);
    expect(probe.listenerCount('data')).toBe(0);
    expect(heard).toEqual(['a1', 'a2', 'b2', 'c2', 'a3', 'c3', 'c4']);
  });

  it('keeps one function registered twice as two listeners, like Node', () => {
    const probe = new Probe();
    let calls = 0;
    const f = () => calls++;
    probe.on('done', f).on('done', f);
    probe.fire('done');
    probe.off('done', f);
    probe.fire('done');
    expect(calls).toBe(3);
    expect(probe.listenerCount('done')).toBe(1);
  });

  it('runs every listener when one throws, then rethrows the first error', () => {
    const probe = new Probe();
    const heard: number[] = [];
    probe.on('data', () => {
      throw new Error('first');
    });
    probe.on('data', (n) => heard.push(n));
    probe.on('data', () => {
      throw new Error('second');
    });
    expect(() => probe.fire('data', 7)).toThrow('first');
    expect(heard).toEqual([7]);
    const single = new Probe();
    single.on('data', () => {
      throw new Error('alone');
    });
    expect(() => single.fire('data', 1)).toThrow('alone');
  });

  it('lets a listener removed during an emit hear that emit, and once() fire once', () => {
    const probe = new Probe();
    const heard: string[] = [];
    const later = () => heard.push('later');
    probe.on('done', () => {
      heard.push('first');
      probe.off('done', later);
    });
    probe.on('done', later);
    probe.fire('done');
    probe.fire('done');
    probe.once('data', (n) => heard.push(`once${n}`));
    probe.fire('data', 1);
    probe.fire('data', 2);
    expect(heard).toEqual(['first', 'later', 'first', 'once1']);
  });
});
