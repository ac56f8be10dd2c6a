/**
 * A minimal typed event emitter (the core may not import Node's `events`). Listeners run synchronously in
 * registration order; one that throws does not stop the others, and the first error is rethrown once all
 * have run.
 */
type Listener = (...args: never[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Listener[]>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const list = this.listeners.get(event);
    const fn = listener as unknown as Listener;
    if (list) list.push(fn);
    else this.listeners.set(event, [fn]);
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
    if (i >= 0) list.splice(i, 1);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return;
    let failure: unknown;
    let failed = false;
    for (const listener of [...list]) {
      try {
        (listener as unknown as (...a: Events[K]) => void)(...args);
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
