/**
 * Every `tcpts` subcommand, in the order `tcpts --help` lists them. A command's module is loaded only when
 * it runs, so `tcpts demo` never loads the TAP device and `tcpts --help` loads nothing.
 *
 * Adding a command is one line here: its name, one line of summary, and how to run it.
 */
import type { CommandEntry } from '../command-line.js';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'the story of TCP and UDP, chapter by chapter, in a simulation (what `npm start` runs)',
    run: async (args, io) => (await import('./demo.js')).runDemo(args, io),
  },
  {
    name: 'sim',
    summary: 'simulate a transfer of your choosing: bytes, loss, delay, rate, MTU, buffers, seed',
    run: async (args, io) => (await import('./sim.js')).runSim(args, io),
  },
  {
    name: 'view',
    summary: 'draw the report of a capture (e.g. from tcpdump): ladder, graphs, counters',
    run: async (args, io) => (await import('./view.js')).runView(args, io),
  },
  {
    name: 'lab',
    summary: 'build the web lab and serve it on localhost: tcpts running in your browser',
    run: async (args, io) => (await import('./lab.js')).runLab(args, io),
  },
  {
    name: 'nc',
    summary: 'netcat over tcpts on a Linux TAP device: TCP and UDP, listen or connect',
    run: async (args, io) => (await import('./nc.js')).runNc(args, io),
  },
  {
    name: 'ping',
    summary: 'ICMP echo from tcpts on a Linux TAP device, printed like ping(8)',
    run: async (args, io) => (await import('./ping.js')).runPing(args, io),
  },
  {
    name: 'bridge',
    summary: 'a user-space netem between two TAP interfaces: delay, rate, drop-tail queue, seeded loss',
    run: async (args, io) => (await import('./bridge.js')).runBridge(args, io),
  },
  {
    name: 'gateway',
    summary: 'user-mode networking for a VM, namespace or emulator: DHCP, DNS and NAT over host sockets',
    run: async (args, io) => (await import('./gateway.js')).runGateway(args, io),
  },
  {
    name: 'wisp',
    summary: "a WISP server relaying browsers' TCP and UDP streams to this host's sockets",
    run: async (args, io) => (await import('./wisp.js')).runWisp(args, io),
  },
];
