/**
 * ICMP echo beyond the gateway, through the host's `ping` command. Node has no ICMP sockets, so a gateway
 * on the host's sockets asks iputils' `ping`, which opens a ping socket (SOCK_DGRAM/IPPROTO_ICMP) when
 * `net.ipv4.ping_group_range` admits the user, and otherwise uses its raw-socket capability — the same
 * host facility slirp and passt use for their guests' pings. One process per echo: guests ping about once
 * a second, and at most `maxConcurrent` run at once (more are answered as 'unavailable', counted by the
 * gateway). When the command is missing or not permitted, every echo comes back 'unavailable' with the
 * reason, and the gateway says so.
 */
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { UpstreamEchoRequest, UpstreamEchoResult } from './upstream.js';

export interface PingEchoOptions {
  /** The ping program. Default 'ping' (iputils). */
  command?: string;
  /** Echoes in flight at once. Default 64. */
  maxConcurrent?: number;
}

/** iputils' words for each ICMP destination-unreachable code (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
const UNREACHABLE_TEXTS: ReadonlyArray<readonly [RegExp, number]> = [
  [/Destination Net Unreachable for Type of Service/, 11],
  [/Destination Host Unreachable for Type of Service/, 12],
  [/Destination Net Unreachable/, 0],
  [/Destination Host Unreachable/, 1],
  [/Destination Protocol Unreachable/, 2],
  [/Destination Port Unreachable/, 3],
  [/Frag needed and DF set/, 4],
  [/Source Route Failed/, 5],
  [/Destination Net Unknown/, 6],
  [/Destination Host Unknown/, 7],
  [/Source Host Isolated/, 8],
  [/Destination Net Prohibited/, 9],
  [/Destination Host Prohibited/, 10],
  [/Packet filtered/, 13],
  [/Precedence Violation/, 14],
  [/Precedence Cutoff/, 15],
];

/** iputils' words for each ICMPv6 destination-unreachable code (RFC 4443 §3.1), as `ping -6` prints them. */
const UNREACHABLE_TEXTS_V6: ReadonlyArray<readonly [RegExp, number]> = [
  [/Destination unreachable: No route/, 0],
  [/Destination unreachable: Administratively prohibited/, 1],
  [/Destination unreachable: Beyond scope/, 2],
  [/Destination unreachable: Address unreachable/, 3],
  [/Destination unreachable: Port unreachable/, 4],
];

/**
 * Reads what one `ping -c 1` printed and how it exited. Codes are ICMP's (RFC 792) for an IPv4 echo and
 * ICMPv6's (RFC 4443 §3.1) for an IPv6 one (`family` 6).
 */
export function interpretPingOutput(
  exitCode: number | null,
  output: string,
  family: 4 | 6 = 4,
): UpstreamEchoResult {
  if (exitCode === 0) return { kind: 'reply' };
  const from = (family === 6 ? /From ([0-9a-fA-F:.]+)/ : /From ([0-9.]+)/).exec(output)?.[1];
  if (/Time to live exceeded|Time exceeded: Hop limit/.test(output)) return { kind: 'time-exceeded', from };
  for (const [text, code] of family === 6 ? UNREACHABLE_TEXTS_V6 : UNREACHABLE_TEXTS)
    if (text.test(output)) return { kind: 'unreachable', code, from };
  // Errors of the host's own stack, before anything was sent: no route (0 in both numberings), or the
  // host (ICMP code 1; ICMPv6 "address unreachable", 3).
  if (/Network is unreachable/.test(output)) return { kind: 'unreachable', code: 0 };
  if (/No route to host/.test(output)) return { kind: 'unreachable', code: family === 6 ? 3 : 1 };
  if (/Operation not permitted|Permission denied|socket:/.test(output)) {
    return { kind: 'unavailable', reason: `ping is not permitted: ${output.trim().split('\n')[0]}` };
  }
  return { kind: 'timeout' };
}

export function pingEcho(
  options: PingEchoOptions = {},
): (request: UpstreamEchoRequest) => Promise<UpstreamEchoResult> {
  const command = options.command ?? 'ping';
  const maxConcurrent = options.maxConcurrent ?? 64;
  let running = 0;
  let missing: string | undefined;
  return (request) => {
    if (missing !== undefined) return Promise.resolve({ kind: 'unavailable', reason: missing });
    if (running >= maxConcurrent) {
      return Promise.resolve({ kind: 'unavailable', reason: `${maxConcurrent} echoes already in flight` });
    }
    running++;
    const family = request.address.includes(':') ? 6 : 4;
    return new Promise<UpstreamEchoResult>((resolve) => {
      const seconds = Math.max(0.001, request.timeoutMs / 1000).toFixed(3);
      const child = spawn(
        command,
        [
          family === 6 ? '-6' : '-4',
          '-n',
          '-c',
          '1',
          '-W',
          seconds,
          '-s',
          String(request.size),
          '-t',
          String(request.ttl),
          request.address,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        if (output.length < 4096) output += text;
      });
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        if (output.length < 4096) output += text;
      });
      child.on('error', (error: Error & { code?: string }) => {
        running--;
        if (error.code === 'ENOENT') missing = `no '${command}' command on this host`;
        resolve({ kind: 'unavailable', reason: missing ?? error.message });
      });
      child.on('close', (exitCode) => {
        if (child.pid === undefined) return; // 'error' answered
        running--;
        const result = interpretPingOutput(exitCode, output, family);
        // An error the host raised itself (its own ARP gave up: "From <host address> ... Destination Host
        // Unreachable") is the gateway's to report, as a NAT router reports its own errors.
        if ('from' in result && result.from !== undefined && isHostAddress(result.from))
          result.from = undefined;
        resolve(result);
      });
    });
  };
}

function isHostAddress(address: string): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === address));
}
