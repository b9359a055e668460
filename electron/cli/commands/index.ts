// Every `flotilla` command, in the order the overview lists them. Each file declares one command — its usage, help,
// options and handler together (see ../command.ts); the handlers load the engine only when they run.
import type { Command } from '../command.ts';
import { budget } from './budget.ts';
import { clean } from './clean.ts';
import { demo } from './demo.ts';
import { doctor } from './doctor.ts';
import { hosts } from './hosts.ts';
import { logs } from './logs.ts';
import { open } from './open.ts';
import { probe } from './probe.ts';
import { run } from './run.ts';
import { runs } from './runs.ts';
import { serve } from './serve.ts';
import { status } from './status.ts';
import { stop } from './stop.ts';

export const COMMANDS: readonly Command[] = [open, status, stop, serve, demo, run, runs, clean, doctor, budget, logs, probe, hosts];
