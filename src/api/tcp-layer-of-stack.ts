/**
 * The TCP layer of a Stack, for the socket APIs: the stack's own `stack.tcp` (created and attached as
 * protocol 6 on first use). Kept as a function so code written against it goes on working.
 */
import type { Stack } from '../stack.js';
import type { TcpLayer } from '../tcp/tcp-layer.js';

/** The TCP layer of `stack` (`stack.tcp`). */
export function tcpLayerOf(stack: Stack): TcpLayer {
  return stack.tcp;
}
