/**
 * A minimal typed event emitter (the core may not import Node's `events`). Listeners run synchronously in
 * registration order; one that throws does not stop the others, and the first error is rethrown once all
 * have run.
 *
 * Events fire for every segment on a busy connection ('readable'), so emitting allocates nothing: each
 * event's listener list is replaced, never changed in place, when a listener is added or removed, and an
 * emit walks the list it started with (a listener removed during the emit still hears that one event, as
 * with Node's EventEmitter).
 *
 * Every connection is one, and a server may hold a hundred thousand idle ones: the table is made with the
 * first listener, and an event with one listener keeps the function itself rather than a list of one.
 * The table is a short array of (event, listeners) pairs, searched in order: an emitter has a handful of
 * events, and a Map and its hash table cost several times the bytes for each connection opened.
 */
type Listener = (a?: unknown, b?: unknown) => void;
type Listeners = Listener | readonly Listener[];

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  /** Events at even indexes, each followed by its listeners; made with the first listener. */
  private listeners: unknown[] | undefined;

  /** Where `event`'s listeners are in the table, or -1. */
  private slotOf(event: keyof Events): number {
    const table = this.listeners;
    if (table === undefined) return -1;
    for (let i = 0; i < table.length; i += 2) if (table[i] === event) return i + 1;
    return -1;
  }

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): this {
    const added = listener as unknown as Listener;
    const table = this.listeners;
    const slot = this.slotOf(event);
    if (table === undefined || slot < 0) {
      // A new event: a table of the exact size (growing one in place would reserve 16 more slots).
      const length = table === undefined ? 0 : table.length;
      const grown: unknown[] = new Array(length + 2);
      for (let i = 0; i < length; i++) grown[i] = table![i];
      grown[length] = event;
      grown[length + 1] = added;
      this.listeners = grown;
      return this;
    }
    const present = table[slot] as Listeners;
    table[slot] = typeof present === 'function' ? [present, added] : [...present, added];
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
    const table = this.listeners;
    const slot = this.slotOf(event);
    if (table === undefined || slot < 0) return this;
    const present = table[slot] as Listeners;
    const removed = listener as unknown as Listener;
    if (typeof present === 'function') {
      if (present === removed) {
        for (let i = slot + 1; i < table.length; i++) table[i - 2] = table[i];
        table.length -= 2;
      }
      return this;
    }
    const i = present.indexOf(removed);
    if (i < 0) return this;
    const rest = [...present.slice(0, i), ...present.slice(i + 1)];
    table[slot] = rest.length === 1 ? rest[0]! : rest;
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    const slot = this.slotOf(event);
    if (slot < 0) return 0;
    const present = this.listeners![slot] as Listeners;
    return typeof present === 'function' ? 1 : present.length;
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
    const slot = this.slotOf(event);
    if (slot < 0) return;
    const present = this.listeners![slot] as Listeners;
    if (typeof present === 'function') {
      // One listener: its error goes straight to the caller, as after the loop below.
      if (count === 0) present();
      else if (count === 1) present(a);
      else present(a, b);
      return;
    }
    const list = present;
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
