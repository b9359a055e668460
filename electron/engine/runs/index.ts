// Runs: the registry of live and stored runs and sessions, launching from a template, scheduling and the sessions'
// lifecycle, budgets, hooks and the run report. The public face of the runs folder.
export { RunRegistry, secret, type LiveRun, type LiveSession } from './registry.ts';
export { Scheduler, slotModel, type SchedulerDeps } from './scheduler.ts';
export { Launcher, type LauncherDeps } from './launcher.ts';
export { raiseBudget } from './budgets.ts';
export { runReport, type ReportSources } from './report.ts';
export { handleHook, type EditSink } from './hooks.ts';
export { cleanRun } from './clean.ts';
