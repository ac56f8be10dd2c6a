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
 */
export function callableClass<C extends new (...args: never[]) => object>(Class: C): CallableClass<C> {
  const callable = new Proxy(Class, {
    apply: (target, _thisArg, args) => Reflect.construct(target, args),
  }) as CallableClass<C>;
  Object.defineProperty(Class.prototype, 'constructor', {
    value: callable,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return callable;
}
