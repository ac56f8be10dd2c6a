/**
 * Node's socket classes (net.Socket, net.Server, dgram.Socket) are functions that construct whether or
 * not they are called with `new`; code written for Node relies on it (`net.Socket()`, `net.Server(fn)`).
 */

/** A class Node lets callers use with or without `new`. */
export type CallableClass<C extends abstract new (...args: never[]) => unknown> = C &
  ((...args: ConstructorParameters<C>) => InstanceType<C>);

/**
 * Lets a class be called without `new`, as Node's function-style classes can: a call constructs. The
 * result is the class itself for `instanceof`, subclassing and its prototype (whose `constructor` is the
 * callable form, as in Node).
 *
 * Called on an object that already inherits from the class — an old-style subclass's constructor doing
 * `Base.call(this, options)`, as Node's `http.Server` does with `net.Server` — it initialises that object:
 * an instance is constructed and its own properties are moved onto `this` (what a function-style
 * constructor would have set there). This holds for classes whose constructors keep no closure over the
 * instance (net.Server does not; a stream's internal state does, so Socket is not meant to be used so).
 */
export function callableClass<C extends new (...args: never[]) => object>(Class: C): CallableClass<C> {
  const callable = new Proxy(Class, {
    apply: (target, thisArg: unknown, args) => {
      if (typeof thisArg !== 'object' || thisArg === null || !(thisArg instanceof target)) {
        return Reflect.construct(target, args);
      }
      const instance = Reflect.construct(target, args) as object;
      for (const key of Reflect.ownKeys(instance)) {
        Object.defineProperty(thisArg, key, Object.getOwnPropertyDescriptor(instance, key)!);
      }
      return thisArg;
    },
  }) as CallableClass<C>;
  Object.defineProperty(Class.prototype, 'constructor', {
    value: callable,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return callable;
}
