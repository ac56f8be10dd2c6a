/**
 * A minimal typed event emitter (the core may not import Node's `events`). Listeners run synchronously in
 * registration order; one that throws does not stop the others, and the first error is rethrown once all
 * have run.
 *
 * Events fire for every segment on a busy connection ('readable'), so emitting allocates nothing: each
 * event's listener list is replaced, never changed in place, when a listener is added or removed, and an
 * emit walks the list it started with (a listener removed during the emit still hears that one event, as
 * with Node's EventEmitter).
 */
type Listener = (a?: unknown, b?: unknown) => void;

const NONE: readonly Listener[] = Object.freeze([]);

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, readonly Listener[]>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const list = this.listeners.get(event) ?? NONE;
    this.listeners.set(event, [...list, listener as unknown as Listener]);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const wrapper = (...args: Events[K]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    const i = list.indexOf(listener as unknown as Listener);
    if (i < 0) return this;
    if (list.length === 1) this.listeners.delete(event);
    else this.listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args` (at most two: all this project's events need). */
  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    this.call(event, args.length, args[0], args[1]);
  }

  /**
   * `emit` without the rest-parameter array, for events fired per segment: `count` arguments (0 to 2) of
   * `a`, `b` are passed, exactly as `emit` would.
   */
  protected call(event: keyof Events, count: number, a?: unknown, b?: unknown): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    let failure: unknown;
    let failed = false;
    for (let i = 0; i < list.length; i++) {
      const listener = list[i]!;
      try {
        if (count === 0) listener();
        else if (count === 1) listener(a);
        else listener(a, b);
      } catch (error) {
        if (!failed) {
          failed = true;
          failure = error;
        }
      }
    }
    if (failed) throw failure;
  }
}
