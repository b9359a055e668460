// The one contract between the engine and every client (renderer, CLI, tests): commands with their arguments and
// results, events, errors, output frames and the domain types they carry. Pure: no Node or DOM, so both sides import it.
// Nothing crosses the wire that this contract does not name.
export * from './limits.ts';
export * from './runs.ts';
export * from './spend.ts';
export * from './review.ts';
export * from './settings.ts';
export * from './governor.ts';
export * from './health.ts';
export * from './hosts.ts';
export * from './errors.ts';
export * from './commands.ts';
export * from './events.ts';
export * from './frames.ts';
