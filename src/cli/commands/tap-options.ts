/**
 * What every TAP command (`tcpts nc`, `tcpts ping`) shares: the options that put a tcpts host on a TAP
 * device, their checking, and the handling of terminating signals.
 */
import { resolve } from 'node:path';
import { parseIpv4 } from '../../wire/address.js';
import { parseIpv6 } from '../../wire/ipv6-address.js';
import {
  type CliIo,
  describeError,
  integerOption,
  type OptionSpec,
  type ParsedCommandLine,
  stringValue,
  stringValues,
  UsageError,
} from '../command-line.js';
import { createTapHost, type TapHost, type TapHostOptions } from '../tap-host.js';

/** The options every TAP command takes, for its CommandSpec. */
export const TAP_HOST_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'tap',
    type: 'string',
    value: 'IFNAME',
    description: 'the TAP interface (attached if it exists, created otherwise; required)',
  },
  {
    name: 'ip',
    type: 'string',
    multiple: true,
    value: 'ADDR/PREFIX',
    description:
      "tcpts's IPv4 address on the link, e.g. 10.9.0.2/24 (required); given again with an IPv6 address, e.g. fd00::2/64, for dual stack",
  },
  { name: 'gateway', type: 'string', value: 'ADDR', description: 'default gateway' },
  { name: 'mtu', type: 'string', value: 'N', description: 'link MTU (also set on the kernel interface)' },
  {
    name: 'mac',
    type: 'string',
    value: 'MAC',
    description: "tcpts's MAC address (default: random, locally administered)",
  },
  {
    name: 'pcap',
    type: 'string',
    value: 'FILE',
    description: 'record every frame tcpts sends and receives to a pcap file',
  },
];

/** The TAP options of a parsed command line, checked, as `createTapHost` options. */
export type TapCommandHostOptions = Pick<
  TapHostOptions,
  'ip' | 'ipv6' | 'gateway' | 'mtu' | 'mac' | 'pcap'
> & {
  tap: string;
};

/** Checks the TAP options, a relative --pcap FILE taken from `cwd`; throws UsageError. */
export function tapHostOptions(parsed: ParsedCommandLine, cwd: string): TapCommandHostOptions {
  const tap = stringValue(parsed, 'tap');
  const all = stringValues(parsed, 'ip');
  const ipv6 = all.filter((value) => value.includes(':'));
  const ipv4 = all.filter((value) => !value.includes(':'));
  if (tap === undefined) throw new UsageError('--tap IFNAME is required');
  if (ipv4.length > 1) throw new UsageError('--ip takes one IPv4 address (and IPv6 ones)');
  const ip = ipv4[0];
  if (ip === undefined && ipv6.length === 0)
    throw new UsageError('--ip ADDR/PREFIX is required (an IPv4 or IPv6 address)');
  for (const value of ipv6) {
    const [address, prefix] = value.split('/');
    if (parseIpv6(address ?? '') === undefined || !/^\d{1,3}$/.test(prefix ?? '') || Number(prefix) > 128)
      throw new UsageError(`--ip wants ADDR/PREFIX, e.g. fd00::2/64; got '${value}'`);
  }
  if (ip !== undefined) {
    const slash = ip.indexOf('/');
    if (slash < 0 || parseIpv4(ip.slice(0, slash)) === undefined || !/^\d{1,2}$/.test(ip.slice(slash + 1))) {
      throw new UsageError(`--ip wants ADDR/PREFIX, e.g. 10.9.0.2/24; got '${ip}'`);
    }
  }
  const options: TapCommandHostOptions = { tap };
  if (ip !== undefined) options.ip = ip;
  if (ipv6.length > 0) options.ipv6 = ipv6;
  const gateway = stringValue(parsed, 'gateway');
  if (gateway !== undefined) {
    const v6 = gateway.includes(':');
    if (
      v6
        ? parseIpv6(gateway) === undefined || ipv6.length === 0
        : parseIpv4(gateway) === undefined || ip === undefined
    )
      throw new UsageError(`--gateway wants an address of a family --ip gives; got '${gateway}'`);
    options.gateway = gateway;
  }
  const mtu = stringValue(parsed, 'mtu');
  if (mtu !== undefined) options.mtu = integerOption('mtu', mtu, 68, 65535);
  const mac = stringValue(parsed, 'mac');
  if (mac !== undefined) options.mac = mac;
  const pcap = stringValue(parsed, 'pcap');
  if (pcap !== undefined) options.pcap = resolve(cwd, pcap);
  return options;
}

/** Writes one line to the command's stderr. */
export function say(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/**
 * Runs `onSignal` for SIGINT and SIGTERM until the returned function removes the handlers. The exit code
 * it is given is the shell's convention, 128 + signal number.
 */
export function onTerminatingSignal(onSignal: (exitCode: number) => void): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => onSignal(130)],
    ['SIGTERM', () => onSignal(143)],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/**
 * Creates the command's host on its TAP device. A failure (no such device, no permission) is written to
 * stderr and gives undefined: the command exits with its own status for it.
 */
export function openTapHost(command: string, options: TapHostOptions, io: CliIo): TapHost | undefined {
  try {
    return createTapHost(options);
  } catch (error) {
    say(io, `tcpts ${command}: ${describeError(error)}`);
    return undefined;
  }
}

/** Closes the host, reporting (not throwing) a failure to do so. */
export function closeHost(host: TapHost, command: string, io: CliIo): void {
  try {
    host.close();
  } catch (error) {
    say(io, `tcpts ${command}: closing: ${describeError(error)}`);
  }
}
