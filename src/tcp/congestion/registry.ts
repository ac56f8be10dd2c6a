/**
 * Congestion controllers by name, as `TcpConfig.congestionControl` selects them (Linux's
 * net.ipv4.tcp_congestion_control and TCP_CONGESTION).
 */
import { createBbrCongestionControl } from './bbr.js';
import type { CongestionControlFactory } from './congestion-control.js';
import { createCubicCongestionControl } from './cubic.js';
import { createNewRenoCongestionControl, createRenoCongestionControl } from './reno.js';

export const CONGESTION_CONTROL_NAMES = ['reno', 'newreno', 'cubic', 'bbr'] as const;
export type CongestionControlName = (typeof CONGESTION_CONTROL_NAMES)[number];

const FACTORIES: Record<CongestionControlName, CongestionControlFactory> = {
  reno: createRenoCongestionControl,
  newreno: createNewRenoCongestionControl,
  cubic: createCubicCongestionControl,
  bbr: createBbrCongestionControl,
};

export function isCongestionControlName(name: unknown): name is CongestionControlName {
  return typeof name === 'string' && (CONGESTION_CONTROL_NAMES as readonly string[]).includes(name);
}

/** The factory for `name` (checked by resolveTcpConfig, so always known here). */
export function congestionControlFactory(name: CongestionControlName): CongestionControlFactory {
  return FACTORIES[name];
}
