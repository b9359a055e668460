#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so the source is the program (no build step to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli.ts');
await main(process.argv.slice(2));
