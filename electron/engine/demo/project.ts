// The demo's scratch project and what each demo slot does to it. Shared by the scratch-repo builder (index.ts) and the
// simulated provider (simulated-provider.ts), so the provider's Edit calls always match the files on disk.
//
// Slots 1 and 2 both change the same line of src/config.ts (a real conflict); every other slot touches its own files.

export const DEMO_MODEL = 'kimi-k2.6';
/** Every text the simulated provider produces starts with this. */
export const SIM_LABEL = '[simulated K2]';
/** The question a slot with `ask` puts to the user; the agent waits on stdin for an answer. */
export const DEMO_QUESTION = 'Proceed with the refactor? [y/n]';

export const PROJECT_FILES: Record<string, string> = {
  'README.md': `# acme-orders

A small order service used by the Flotilla demo. Nothing here talks to a real network.

## Layout

- \`src/api.ts\` — HTTP handlers
- \`src/config.ts\` — runtime settings
- \`src/db.ts\` — an in-memory store
- \`src/logger.ts\` — structured logging
- \`src/utils/format.ts\` — formatting helpers
`,
  'package.json': `{
  "name": "acme-orders",
  "version": "0.3.1",
  "private": true,
  "type": "module",
  "scripts": { "test": "node --test" }
}
`,
  'src/config.ts': `// Runtime settings for the order service.
export const config = {
  port: 8080,
  requestTimeoutMs: 5000,
  maxRetries: 3,
  logLevel: 'info',
};
`,
  'src/api.ts': `import { createOrder, getOrder } from './db.ts';
import { log } from './logger.ts';

export interface OrderRequest {
  customerId: string;
  items: { sku: string; quantity: number }[];
}

export function postOrder(body: OrderRequest) {
  const order = createOrder(body.customerId, body.items);
  log('info', 'order created', { id: order.id });
  return { status: 201, body: order };
}

export function fetchOrder(id: string) {
  const order = getOrder(id);
  return order ? { status: 200, body: order } : { status: 404, body: { error: 'not found' } };
}
`,
  'src/db.ts': `export interface Order {
  id: string;
  customerId: string;
  items: { sku: string; quantity: number }[];
  createdAt: string;
}

const orders = new Map<string, Order>();
let nextId = 1;

export function createOrder(customerId: string, items: Order['items']): Order {
  const order = { id: String(nextId++), customerId, items, createdAt: new Date().toISOString() };
  orders.set(order.id, order);
  return order;
}

export function getOrder(id: string): Order | undefined {
  return orders.get(id);
}
`,
  'src/logger.ts': `export type Level = 'debug' | 'info' | 'warn' | 'error';

export function log(level: Level, message: string, fields: Record<string, unknown> = {}) {
  console.log(JSON.stringify({ level, message, ...fields }));
}
`,
  'src/utils/format.ts': `export function formatPrice(cents: number): string {
  return '$' + (cents / 100).toFixed(2);
}

export function formatDate(iso: string): string {
  return iso.slice(0, 10);
}
`,
};

export interface DemoJob {
  task: string;
  /** Repo-relative path the agent reads first. */
  read: string;
  /** One Edit of an existing file (exact old → new). */
  edit: { path: string; old: string; new: string; why: string } | null;
  /** One new file. */
  write: { path: string; content: string; why: string };
  /** Stop once and ask the user before the last step. */
  ask: boolean;
}

const JOBS: DemoJob[] = [
  {
    task: 'Make the service retry flaky downstream calls more often',
    read: 'src/config.ts',
    edit: { path: 'src/config.ts', old: '  maxRetries: 3,', new: '  maxRetries: 5,', why: 'raise the retry ceiling to 5' },
    write: {
      path: 'src/retry.ts',
      content: `import { config } from './config.ts';

/** Runs fn, retrying with exponential backoff up to config.maxRetries times. */
export async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (++attempt > config.maxRetries) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
}
`,
      why: 'a small retry helper that reads the setting',
    },
    ask: false,
  },
  {
    task: 'Tune retries for the batch importer',
    read: 'src/config.ts',
    edit: {
      path: 'src/config.ts',
      old: '  maxRetries: 3,',
      new: '  maxRetries: 10, // the importer tolerates slow peers',
      why: 'let the importer retry up to 10 times',
    },
    write: {
      path: 'src/importer.ts',
      content: `import { config } from './config.ts';
import { createOrder } from './db.ts';

/** Imports a batch of orders, skipping rows that still fail after config.maxRetries attempts. */
export function importBatch(rows: { customerId: string; sku: string; quantity: number }[]) {
  let imported = 0;
  for (const row of rows) {
    for (let attempt = 0; attempt <= config.maxRetries; attempt++) {
      try {
        createOrder(row.customerId, [{ sku: row.sku, quantity: row.quantity }]);
        imported++;
        break;
      } catch {
        /* try again */
      }
    }
  }
  return imported;
}
`,
      why: 'the batch importer itself',
    },
    ask: true,
  },
  {
    task: 'Add input validation to src/api.ts',
    read: 'src/api.ts',
    edit: {
      path: 'src/api.ts',
      old: `export function postOrder(body: OrderRequest) {
  const order`,
      new: `export function postOrder(body: OrderRequest) {
  const problem = validateOrder(body);
  if (problem) return { status: 400, body: { error: problem } };
  const order`,
      why: 'reject bad requests before they reach the store',
    },
    write: {
      path: 'src/validation.ts',
      content: `import type { OrderRequest } from './api.ts';

/** Returns a human-readable problem with the request, or null when it is fine. */
export function validateOrder(body: OrderRequest): string | null {
  if (!body.customerId) return 'customerId is required';
  if (!Array.isArray(body.items) || body.items.length === 0) return 'at least one item is required';
  for (const item of body.items) {
    if (!item.sku) return 'every item needs a sku';
    if (!Number.isInteger(item.quantity) || item.quantity < 1) return \`bad quantity for \${item.sku}\`;
  }
  return null;
}
`,
      why: 'the validator',
    },
    ask: false,
  },
  {
    task: 'Add request ids to the logger',
    read: 'src/logger.ts',
    edit: {
      path: 'src/logger.ts',
      old: `  console.log(JSON.stringify({ level, message, ...fields }));`,
      new: `  console.log(JSON.stringify({ time: new Date().toISOString(), level, message, requestId: currentRequestId, ...fields }));`,
      why: 'stamp every line with a time and the request id',
    },
    write: {
      path: 'src/request-context.ts',
      content: `let current: string | null = null;

export function withRequestId<T>(id: string, fn: () => T): T {
  const previous = current;
  current = id;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

export const requestId = () => current;
`,
      why: 'a tiny request context',
    },
    ask: false,
  },
  {
    task: 'Add a listOrders query to the store',
    read: 'src/db.ts',
    edit: {
      path: 'src/db.ts',
      old: `export function getOrder(id: string): Order | undefined {`,
      new: `export function listOrders(customerId: string): Order[] {
  return [...orders.values()].filter((o) => o.customerId === customerId);
}

export function getOrder(id: string): Order | undefined {`,
      why: 'a query by customer',
    },
    write: {
      path: 'test/db.test.ts',
      content: `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrder, listOrders } from '../src/db.ts';

test('listOrders returns only that customer', () => {
  createOrder('a', [{ sku: 'x', quantity: 1 }]);
  createOrder('b', [{ sku: 'y', quantity: 2 }]);
  assert.equal(listOrders('a').length, 1);
});
`,
      why: 'a test for it',
    },
    ask: true,
  },
  {
    task: 'Format prices with thousands separators',
    read: 'src/utils/format.ts',
    edit: {
      path: 'src/utils/format.ts',
      old: `  return '$' + (cents / 100).toFixed(2);`,
      new: `  return (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });`,
      why: 'use Intl for currency formatting',
    },
    write: {
      path: 'src/utils/format.test.ts',
      content: `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrice } from './format.ts';

test('formats thousands', () => {
  assert.equal(formatPrice(123456), '$1,234.56');
});
`,
      why: 'a test for large amounts',
    },
    ask: false,
  },
];

/** The job of a slot (1-based). Slots past the hand-written ones each add a module of their own. */
export function demoJob(slot: number): DemoJob {
  const job = JOBS[slot - 1];
  if (job) return job;
  const name = `feature-${slot}`;
  return {
    task: `Add a ${name} module with a health check`,
    read: 'README.md',
    edit: null,
    write: {
      path: `src/features/${name}.ts`,
      content: `// ${name}: reports whether its part of the service is healthy.
export function health() {
  return { feature: '${name}', ok: true, checkedAt: new Date().toISOString() };
}
`,
      why: `the ${name} module`,
    },
    ask: slot % 3 === 2,
  };
}

export function demoTasks(count: number): string[] {
  return Array.from({ length: count }, (_, i) => demoJob(i + 1).task);
}
