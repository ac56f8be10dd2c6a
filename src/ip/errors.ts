/** The error vocabulary: declared in src/seams.ts with every other seam. */
export type {
  ErrnoCode,
  ErrnoError,
} from '../seams.js';
export { errnoError } from '../seams.js';
