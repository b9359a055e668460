// Other machines whose engines this one shows in its grid (issue 24): each host's name, SSH destination and the state
// of its connection, as the dashboard's Settings → Hosts and the tiles' labels show them.
import { z } from 'zod';

export const HostLinkState = z.enum([
  /** Reached: its runs are in the grid. */
  'connected',
  'connecting',
  /** Was connected and dropped: its sessions go on there; tries again (attempt n). */
  'reconnecting',
  /** Reachable, but no engine runs there yet (one starts on the first launch there). */
  'no_engine',
  /** Cannot be reached or used (message says why and what to do). */
  'unavailable',
]);
export type HostLinkState = z.infer<typeof HostLinkState>;

export const HostView = z.object({
  name: z.string(),
  destination: z.string(),
  state: HostLinkState,
  /** Reconnection attempts so far (reconnecting). */
  attempt: z.number().int().nullable(),
  /** What to tell the user, null when all is well. */
  message: z.string().nullable(),
  /** The engine's install there (`<version>-<hash>`), once connected. */
  version: z.string().nullable(),
});
export type HostView = z.infer<typeof HostView>;
