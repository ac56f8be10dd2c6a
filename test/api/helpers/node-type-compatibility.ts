/**
 * Compile-time check (run by `tsc --noEmit`): tcpts's socket classes are assignable to Node's own types,
 * so they can be passed wherever Node's `net.Socket`, `net.Server` or `dgram.Socket` is expected, and
 * `stack.net.createConnection` fits Node's `http` `createConnection` option without a cast.
 */
import type * as dgram from 'node:dgram';
import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Socket as DgramSocket } from '../../../src/api/dgram/socket.js';
import type { NetApi } from '../../../src/api/net/net-api.js';
import type { Server } from '../../../src/api/net/server.js';
import type { Socket } from '../../../src/api/net/socket.js';

export function assignableToNodeTypes(
  socket: Socket,
  server: Server,
  api: NetApi,
  udp: DgramSocket,
): unknown[] {
  const nodeSocket: net.Socket = socket;
  const nodeServer: net.Server = server;
  const createConnection: http.RequestOptions['createConnection'] = (options) =>
    api.createConnection(options);
  const nodeDgram: dgram.Socket = udp;
  return [nodeSocket, nodeServer, createConnection, nodeDgram];
}
