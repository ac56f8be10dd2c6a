/**
 * Randomized TCP soak, shard 2 of 4 (see soak-run.ts for what each run does and checks, and
 * soak-shard.ts for the environment variables that replay a seed or run more of them).
 */
import { defineSoakShard } from './soak-shard.js';

defineSoakShard(1);
