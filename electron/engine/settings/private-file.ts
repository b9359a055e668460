// Files only the owner may read (settings, provider keys), written atomically: temp file, fsync, rename.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EngineError } from '../errors.ts';
import { isDiskFull } from '../store/disk.ts';

export async function writePrivateFile(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text);
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    // The old file is untouched (atomic write): say so, and what to do.
    if (isDiskFull(err))
      throw new EngineError(
        'disk_full',
        `${file} was not saved: the disk is full (${(err as Error).message}) — free some space and save again; the previous version is kept`,
      );
    throw err;
  }
}
