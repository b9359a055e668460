// The engine's own health, beside its sessions': today whether it can write to its data dir's disk.
import { z } from 'zod';

export const DiskState = z.object({
  /** The data dir's disk has too little room, or a write there failed: spend is held until it can be written. */
  full: z.boolean(),
  /** The data dir. */
  path: z.string(),
  /** Free bytes there at the last look (null: the platform could not say). */
  freeBytes: z.number().nullable(),
  /** Bytes to free before spend resumes (0 when not full, or when only a retried write can tell). */
  neededBytes: z.number(),
  /** When it became full (ISO), null when it is not. */
  since: z.string().nullable(),
  /** Writes kept in memory until they can be written (of these, the ledger's), and writes dropped past the bound. */
  pendingWrites: z.number().int(),
  ledgerWrites: z.number().int(),
  droppedWrites: z.number().int(),
  /** Model requests held meanwhile. */
  heldRequests: z.number().int(),
  /** What to tell the user, null when all is well. */
  message: z.string().nullable(),
});
export type DiskState = z.infer<typeof DiskState>;

export const EngineHealth = z.object({ disk: DiskState });
export type EngineHealth = z.infer<typeof EngineHealth>;
