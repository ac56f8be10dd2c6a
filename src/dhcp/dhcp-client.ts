/**
 * A DHCP client (RFC 2131 §4.4) that gives a tcpts stack its address on a device:
 *
 *   const lease = await DhcpClient.start(stack, device);      // INIT: DISCOVER, OFFER, REQUEST, ACK
 *   DhcpClient.start(stack, device, { requestedAddress })      // INIT-REBOOT: REQUEST the old address
 *
 * Until it is bound the client speaks on the raw device (the stack has no address there yet: frames from
 * 0.0.0.0 to the broadcast address, built here); once bound it adds the interface to the stack with the
 * lease's address, prefix, router and MTU, and renews over the stack's UDP: at T1 a unicast REQUEST to the
 * server (RENEWING), at T2 a broadcast one (REBINDING), and at expiry it removes the interface and starts
 * over. `release()` sends RELEASE and removes the interface. Retransmissions back off 4, 8, 16 s (RFC 2131
 * §4.1), up to `maxAttempts`; a NAK to the REQUEST starts INIT again, up to `maxAttempts` rounds.
 */
import type { IpInterface } from '../ip/ip-interface.js';
import type { NetworkDevice } from '../link/device.js';
import type { Stack } from '../stack.js';
import type { TimerHandle } from '../time/clock.js';
import type { UdpSocket } from '../udp/udp-socket.js';
import { IPV4_BROADCAST, type Ipv4Address, ipv4ToString, MAC_BROADCAST } from '../wire/address.js';
import { emitUdpFrame, parseUdpFrame } from '../wire/udp-frame.js';
import {
  addressOption,
  DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST,
  DHCP_SERVER_PORT,
  DHCPACK,
  DHCPDISCOVER,
  DHCPNAK,
  DHCPOFFER,
  DHCPRELEASE,
  DHCPREQUEST,
  type DhcpMessage,
  dhcpAddressOption,
  dhcpMessageType,
  dhcpUint32Option,
  emitDhcp,
  OPTION_DNS,
  OPTION_INTERFACE_MTU,
  OPTION_LEASE_TIME,
  OPTION_MESSAGE_TYPE,
  OPTION_PARAMETER_LIST,
  OPTION_REBINDING_TIME,
  OPTION_RENEWAL_TIME,
  OPTION_REQUESTED_ADDRESS,
  OPTION_ROUTER,
  OPTION_SERVER_ID,
  OPTION_SUBNET_MASK,
  parseDhcp,
} from './dhcp-message.js';

export interface DhcpLeaseInfo {
  address: string;
  prefixLength: number;
  router: string | undefined;
  dns: string[];
  mtu: number | undefined;
  server: string;
  leaseSeconds: number;
}

export interface DhcpClientOptions {
  /** INIT-REBOOT: ask for this address again (RFC 2131 §3.2). */
  requestedAddress?: string;
  /**
   * Transmissions per exchange before giving up with ETIMEDOUT (default 4: 4+8+16+32 s), and INIT rounds
   * ended by a NAK before giving up with EPROTO.
   */
  maxAttempts?: number;
  /** Called after every bind, renewal and loss of the lease. */
  onChange?: (lease: DhcpLeaseInfo | undefined) => void;
}

function prefixOf(mask: number): number {
  let n = 0;
  while (n < 32 && (mask & (0x80000000 >>> n)) !== 0) n++;
  return n;
}

export class DhcpClient {
  lease: DhcpLeaseInfo | undefined;
  interface: IpInterface | undefined;
  private xid = 0;
  private rawWaiter: ((message: DhcpMessage) => void) | undefined;
  private socket: UdpSocket | undefined;
  private timers: TimerHandle[] = [];
  private stopped = false;

  private constructor(
    private readonly stack: Stack,
    private readonly device: NetworkDevice,
    private readonly options: DhcpClientOptions,
  ) {}

  /** Obtains a lease and configures the stack; rejects with ETIMEDOUT when no server answers. */
  static async start(
    stack: Stack,
    device: NetworkDevice,
    options: DhcpClientOptions = {},
  ): Promise<DhcpClient> {
    const client = new DhcpClient(stack, device, options);
    await client.acquire(options.requestedAddress);
    return client;
  }

  /** RELEASE (RFC 2131 §4.4.6), then the interface goes. */
  release(): void {
    this.stopped = true;
    this.cancelTimers();
    const lease = this.lease;
    if (lease !== undefined && this.socket !== undefined) {
      try {
        this.socket.send(
          emitDhcp(
            this.message(DHCPRELEASE, this.toAddress(lease.address), [
              [OPTION_SERVER_ID, addressOption(this.toAddress(lease.server))],
            ]),
          ),
          DHCP_SERVER_PORT,
          lease.server,
        );
      } catch {
        // the server learns at expiry instead
      }
    }
    this.unbind();
  }

  // --- acquiring on the raw device ---

  private async acquire(requested: string | undefined): Promise<void> {
    this.device.setReceiver((frame, info) => this.rawFrame(frame, info?.checksumTrusted === true));
    let ack: DhcpMessage | undefined;
    if (requested !== undefined) {
      ack = await this.exchangeRaw(
        () =>
          this.message(DHCPREQUEST, 0, [
            [OPTION_REQUESTED_ADDRESS, addressOption(this.toAddress(requested))],
          ]),
        (m) => dhcpMessageType(m) === DHCPACK || dhcpMessageType(m) === DHCPNAK,
      ).catch(() => undefined);
      if (ack !== undefined && dhcpMessageType(ack) === DHCPNAK) ack = undefined;
    }
    // RFC 2131 §3.1 step 5 / §4.4.1: a NAK to the REQUEST sends the client back to INIT (a new DISCOVER,
    // perhaps answered by another server or with another address). Bounded by maxAttempts, so a server
    // that NAKs everything ends the acquisition with EPROTO instead of a loop.
    const maxAttempts = this.options.maxAttempts ?? 4;
    for (let round = 1; ack === undefined; round++) {
      const offer = await this.exchangeRaw(
        () => this.message(DHCPDISCOVER, 0, []),
        // RFC 2131 §4.3.1: a server MUST put its identifier in an OFFER; one without it cannot be
        // answered (the REQUEST must name the server), so it is ignored like any unusable message and the
        // client keeps waiting for a usable offer.
        (m) => dhcpMessageType(m) === DHCPOFFER && dhcpAddressOption(m, OPTION_SERVER_ID) !== undefined,
      );
      const server = dhcpAddressOption(offer, OPTION_SERVER_ID)!;
      const answer = await this.exchangeRaw(
        () =>
          this.message(DHCPREQUEST, 0, [
            [OPTION_REQUESTED_ADDRESS, addressOption(offer.yiaddr)],
            [OPTION_SERVER_ID, addressOption(server)],
          ]),
        // Only the selected server's answer counts (§4.4.1: the REQUEST names it; others drop the offer).
        (m) =>
          (dhcpMessageType(m) === DHCPACK || dhcpMessageType(m) === DHCPNAK) &&
          (dhcpAddressOption(m, OPTION_SERVER_ID) ?? server) === server,
      );
      if (dhcpMessageType(answer) === DHCPACK) ack = answer;
      else if (round >= maxAttempts)
        throw Object.assign(new Error('DHCP server refused (NAK)'), { code: 'EPROTO' });
    }
    this.bind(ack);
  }

  private exchangeRaw(make: () => DhcpMessage, accept: (m: DhcpMessage) => boolean): Promise<DhcpMessage> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    this.xid = this.randomXid();
    return new Promise((resolve, reject) => {
      let attempt = 0;
      const send = (): void => {
        if (this.stopped) return;
        if (attempt >= maxAttempts) {
          this.rawWaiter = undefined;
          reject(Object.assign(new Error('no DHCP server answered'), { code: 'ETIMEDOUT' }));
          return;
        }
        this.sendRaw(emitDhcp(make()));
        // RFC 2131 §4.1: 4 s, doubling, randomized by +-1 s.
        const delay = 4000 * 2 ** attempt + (this.randomXid() % 2000) - 1000;
        attempt++;
        this.timers.push(this.stack.clock.setTimer(delay, send));
      };
      this.rawWaiter = (message) => {
        if (message.xid !== this.xid || !accept(message)) return;
        this.rawWaiter = undefined;
        this.cancelTimers();
        resolve(message);
      };
      send();
    });
  }

  /**
   * A frame read from the device before the stack has an address. `checksumTrusted`: the device vouches
   * for the UDP checksum, which may then hold only a partial sum (a server on an offloading link, Linux's
   * TP_STATUS_CSUMNOTREADY on a packet socket), so it is not verified.
   */
  private rawFrame(frame: Uint8Array, checksumTrusted: boolean): void {
    const udp = parseUdpFrame(frame, !checksumTrusted);
    if (udp === undefined || udp.dstPort !== DHCP_CLIENT_PORT) return;
    const message = parseDhcp(udp.payload);
    if (message.ok && message.value.reply && message.value.chaddr === this.device.mac)
      this.rawWaiter?.(message.value);
  }

  private sendRaw(payload: Uint8Array): void {
    this.device.send(
      emitUdpFrame(
        {
          srcMac: this.device.mac,
          dstMac: MAC_BROADCAST,
          src: 0,
          dst: IPV4_BROADCAST,
          srcPort: DHCP_CLIENT_PORT,
          dstPort: DHCP_SERVER_PORT,
        },
        payload,
      ),
    );
  }

  // --- bound: configure the stack, renew over its UDP ---

  private bind(ack: DhcpMessage): void {
    const mask = dhcpAddressOption(ack, OPTION_SUBNET_MASK) ?? 0xffffff00;
    const router = dhcpAddressOption(ack, OPTION_ROUTER);
    const dnsValue = ack.options.get(OPTION_DNS);
    const dns: string[] = [];
    for (let i = 0; dnsValue !== undefined && i + 4 <= dnsValue.length; i += 4) {
      dns.push(ipv4ToString(new DataView(dnsValue.buffer, dnsValue.byteOffset + i, 4).getUint32(0)));
    }
    const mtuValue = ack.options.get(OPTION_INTERFACE_MTU);
    const leaseSeconds = dhcpUint32Option(ack, OPTION_LEASE_TIME) ?? 3600;
    const server = dhcpAddressOption(ack, OPTION_SERVER_ID) ?? 0;
    const lease: DhcpLeaseInfo = {
      address: ipv4ToString(ack.yiaddr),
      prefixLength: prefixOf(mask),
      router: router === undefined ? undefined : ipv4ToString(router),
      dns,
      mtu: mtuValue?.length === 2 ? (mtuValue[0]! << 8) | mtuValue[1]! : undefined,
      server: ipv4ToString(server),
      leaseSeconds,
    };
    const changed = this.lease?.address !== lease.address || this.interface === undefined;
    this.lease = lease;
    if (changed) {
      this.unbind();
      this.interface = this.stack.addInterface(this.device, {
        address: `${lease.address}/${lease.prefixLength}`,
        gateway: lease.router,
        mtu: lease.mtu,
      });
      this.socket = this.stack.udp.bind(
        { port: DHCP_CLIENT_PORT, reuseAddress: true },
        { message: (payload) => this.boundMessage(payload) },
      );
      this.socket.broadcast = true;
    }
    this.options.onChange?.(lease);
    this.schedule(ack, leaseSeconds);
  }

  private schedule(ack: DhcpMessage, leaseSeconds: number): void {
    this.cancelTimers();
    const t1 = dhcpUint32Option(ack, OPTION_RENEWAL_TIME) ?? leaseSeconds / 2;
    const t2 = dhcpUint32Option(ack, OPTION_REBINDING_TIME) ?? (leaseSeconds * 7) / 8;
    const clock = this.stack.clock;
    this.timers.push(clock.setTimer(t1 * 1000, () => this.extend(false)));
    this.timers.push(clock.setTimer(t2 * 1000, () => this.extend(true)));
    this.timers.push(
      clock.setTimer(leaseSeconds * 1000, () => {
        // RFC 2131 §4.4.5: at expiry the address must go; start over.
        this.unbind();
        this.options.onChange?.(undefined);
        void this.acquire(undefined).catch(() => {});
      }),
    );
  }

  /** RENEWING (unicast to the server) or REBINDING (broadcast). */
  private extend(rebinding: boolean): void {
    const lease = this.lease;
    if (lease === undefined || this.socket === undefined || this.stopped) return;
    this.xid = this.randomXid();
    try {
      this.socket.send(
        emitDhcp(this.message(DHCPREQUEST, this.toAddress(lease.address), [])),
        DHCP_SERVER_PORT,
        rebinding ? IPV4_BROADCAST : lease.server,
      );
    } catch {
      // the next timer tries again
    }
  }

  private boundMessage(payload: Uint8Array): void {
    const parsed = parseDhcp(payload);
    if (!parsed.ok || !parsed.value.reply || parsed.value.xid !== this.xid) return;
    const type = dhcpMessageType(parsed.value);
    if (type === DHCPACK) this.bind(parsed.value);
    else if (type === DHCPNAK) {
      this.unbind();
      this.options.onChange?.(undefined);
      void this.acquire(undefined).catch(() => {});
    }
  }

  private unbind(): void {
    this.socket?.close();
    this.socket = undefined;
    if (this.interface !== undefined) {
      this.stack.removeInterface(this.interface);
      this.interface = undefined;
    }
  }

  private message(type: number, ciaddr: Ipv4Address, options: Array<[number, Uint8Array]>): DhcpMessage {
    return {
      reply: false,
      xid: this.xid,
      secs: 0,
      flags: ciaddr === 0 ? DHCP_FLAG_BROADCAST : 0,
      ciaddr,
      yiaddr: 0,
      siaddr: 0,
      giaddr: 0,
      chaddr: this.device.mac,
      options: new Map<number, Uint8Array>([
        [OPTION_MESSAGE_TYPE, Uint8Array.of(type)],
        [
          OPTION_PARAMETER_LIST,
          Uint8Array.of(OPTION_SUBNET_MASK, OPTION_ROUTER, OPTION_DNS, OPTION_INTERFACE_MTU),
        ],
        ...options,
      ]),
    };
  }

  private toAddress(text: string): Ipv4Address {
    const parts = text.split('.').map(Number);
    return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  }

  private randomXid(): number {
    const bytes = new Uint32Array(1);
    globalThis.crypto.getRandomValues(bytes);
    return bytes[0]!;
  }

  private cancelTimers(): void {
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
  }
}
