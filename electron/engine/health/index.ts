// The engine's own health (today its disk): see disk-watch.ts.
export { DiskWatch, MIN_FREE_BYTES, RESUME_FREE_BYTES, type DiskWatchOptions } from './disk-watch.ts';
