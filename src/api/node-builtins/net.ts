/**
 * A stand-in for Node's built-in `net`, bound to the configured stack (configured-stack.ts): the same
 * named exports and default export, so `import net from 'node:net'`, `import { connect } from 'net'`
 * and `require('net')` all work when a bundler alias or the register loader points them here.
 */
import { configuredNet } from './configured-stack.js';

const net = configuredNet();

export default net;
export const {
  Socket,
  Server,
  Stream,
  BlockList,
  SocketAddress,
  createServer,
  connect,
  createConnection,
  isIP,
  isIPv4,
  isIPv6,
  getDefaultAutoSelectFamily,
  setDefaultAutoSelectFamily,
  getDefaultAutoSelectFamilyAttemptTimeout,
  setDefaultAutoSelectFamilyAttemptTimeout,
  _normalizeArgs,
  _setSimultaneousAccepts,
  _createServerHandle,
} = net;
