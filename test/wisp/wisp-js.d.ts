// The parts of @mercuryworkshop/wisp-js's server entry (plain JavaScript, no types) the interop test uses.
declare module '@mercuryworkshop/wisp-js/server' {
  import type { IncomingMessage } from 'node:http';
  import type { Duplex } from 'node:stream';
  export const server: {
    options: { allow_loopback_ips: boolean; allow_private_ips: boolean; wisp_version: number };
    routeRequest(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  };
  export const logging: { set_level(level: number): void; NONE: number };
}
