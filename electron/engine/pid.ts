// Whether a process exists — shared by the store's lock, the dead-engine checks and the background engine's discovery.

/** Whether a process exists (EPERM: it exists, it just is not ours to signal). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
