// The launch dialog: open or not, and the engine's progress on the launch under way (worktrees, setup).
import type { LaunchProgress } from '../../../../electron/shared/contract.ts';
import type { SliceCreator } from '../../store/slice.ts';

export interface LaunchSlice {
  launchOpen: boolean;
  launchProgress: LaunchProgress | null;
  setLaunchOpen(open: boolean): void;
  setLaunchProgress(p: LaunchProgress | null): void;
}

export const createLaunchSlice: SliceCreator<LaunchSlice> = (set) => ({
  launchOpen: false,
  launchProgress: null,
  setLaunchOpen: (launchOpen) => set({ launchOpen }),
  setLaunchProgress: (launchProgress) => set({ launchProgress }),
});
