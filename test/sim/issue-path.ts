/**
 * The path of the fast-TCP issue's benchmarks, shared by the simulation tests that reproduce them: 100 Mbit/s
 * with 25 ms each way (RTT 50 ms; the bottleneck queue defaults to one bandwidth-delay product), and the
 * modern TCP options the bench uses.
 */
export const ISSUE_PATH = { rateBitsPerSecond: 100e6, delayMs: 25 } as const;
export const MODERN_TCP = { timestamps: true, sack: true, rack: true } as const;
