/**
 * The tcpts side of the goodput benchmarks (bench/suites/goodput.ts): bulk flows between two simulated
 * stacks through one bottleneck, in virtual time. Core code only, so the suite can bundle it.
 */
export { runBulkFlows } from '../src/sim/scenarios/bulk-flows.js';
