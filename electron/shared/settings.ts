// Settings (<dataDir>/settings.json) and provider keys as clients see them: the shapes only. The engine's settings room
// validates with messages that name the file and field; here is what the wire carries.
import { z } from 'zod';
import { ProviderLimits } from './governor.ts';
import { PriceEntry } from './spend.ts';
import { TerminalLimits } from './limits.ts';

const rate = z.number().finite().min(0);

/** An override of one model's prices (settings.json or a template's `prices:`): any subset of the fields. */
export const PriceOverride = z.strictObject({
  inputUsd: rate.optional(),
  cacheReadUsd: rate.optional(),
  cacheWriteUsd: rate.optional(),
  outputUsd: rate.optional(),
  contextWindow: z.number().int().positive().optional(),
});
export type PriceOverride = z.infer<typeof PriceOverride>;

export const RATE_FIELDS = ['inputUsd', 'cacheReadUsd', 'cacheWriteUsd', 'outputUsd'] as const;
export const PRICE_OVERRIDE_FIELDS = [...RATE_FIELDS, 'contextWindow'] as const;

export const PriceOverrides = z.record(z.string(), PriceOverride);
export type PriceOverrides = Record<string, PriceOverride>;

const budgetUsd = z.number().finite().positive().nullable();

/** The dashboard's own preferences (the Settings panel's "Interface" part). */
export const UiSettings = z.strictObject({
  /** Command ids → a chord ("Ctrl+Shift+K"), or null to unbind; chords an agent could receive are refused. */
  keybindings: z.record(z.string().regex(/^[a-z][a-zA-Z0-9.]*$/), z.string().trim().min(1).nullable()).optional(),
  /** Terminal font size in px (default 12). */
  terminalFontSize: z.number().int().min(TerminalLimits.FontSize.min).max(TerminalLimits.FontSize.max).optional(),
  /** xterm's screen-reader mode for every terminal (an accessibility tree of the screen; costs some speed). */
  screenReader: z.boolean().optional(),
  /** Scrollback lines of a tile in the grid (default 1000; focus mode keeps 10 000; the engine's mirror the rest). */
  gridScrollback: z.number().int().min(TerminalLimits.GridScrollback.min).max(TerminalLimits.GridScrollback.max).optional(),
  /** "Open in editor": a command line, the path appended (default $VISUAL, $EDITOR, then code). */
  editor: z.string().trim().min(1).optional(),
  /** "Open terminal here": a command line run in the folder (default $TERMINAL, then the desktop's terminal). */
  terminal: z.string().trim().min(1).optional(),
  /**
   * How terminals draw: `auto` (default) uses WebGL only where the GPU draws it — with software GL (SwiftShader,
   * llvmpipe: VMs, remote desktops, no GPU) every WebGL tile is read back on each frame and the DOM renderer is far
   * cheaper; `webgl` and `dom` force one.
   */
  terminalRenderer: z.enum(['auto', 'webgl', 'dom']).optional(),
  /**
   * How often tiles in the background draw small outputs (a spinner, streamed text), in ms (default 500); a bulk of
   * output and the focused tile are drawn at once. Higher is lighter: 16 idle spinner tiles cost ~6 % of a core at 500
   * and ~4 % at 1000 on the test machines (software rendering).
   */
  backgroundRefreshMs: z.number().int().min(TerminalLimits.BackgroundRefreshMs.min).max(TerminalLimits.BackgroundRefreshMs.max).optional(),
  /** Colour theme: follow the OS (default), or always dark or light. */
  theme: z.enum(['system', 'dark', 'light']).optional(),
});
export type UiSettings = z.infer<typeof UiSettings>;

export const Settings = z.strictObject({
  prices: PriceOverrides.optional(),
  /** The model savings are measured against; default claude-sonnet-4-5. */
  referenceModel: z.string().trim().min(1).optional(),
  defaultBudget: z.strictObject({ perSessionUsd: budgetUsd.optional(), runUsd: budgetUsd.optional() }).optional(),
  /** How long a request over budget is held for a raise before it is answered with the budget error (default 15). */
  budgetHoldMinutes: z
    .number()
    .finite()
    .positive()
    .max(24 * 60)
    .optional(),
  /** Account-wide rate limits per provider key (named like its variable, e.g. MOONSHOT_API_KEY); a template's win. */
  limits: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), ProviderLimits).optional(),
  /**
   * Providers for every template that names none (`provider:` or `providers:`), in a template's `providers:` shape —
   * checked when a template uses them — and how to pick among them.
   */
  providers: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
  route: z.enum(['ordered', 'fastest', 'cheapest']).optional(),
  /** A sandboxed session's container is kept after it ends, for inspection (default: removed); flotilla clean removes it. */
  keepContainers: z.boolean().optional(),
  ui: UiSettings.optional(),
});
export type Settings = z.infer<typeof Settings>;

/** A provider key is named like the environment variable it would come from. */
export const KEY_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** Keys the Settings panel always lists (set or not). */
export const KNOWN_PROVIDER_KEYS: readonly string[] = ['MOONSHOT_API_KEY', 'OPENROUTER_API_KEY'];

export const KeySource = z.enum(['environment', 'data dir']);
export type KeySource = z.infer<typeof KeySource>;

/** What the Settings panel shows: settings, the effective and the shipped price tables, which keys are set — never their values. */
export const SettingsView = z.object({
  settings: Settings,
  prices: z.array(PriceEntry),
  shipped: z.array(PriceEntry),
  keys: z.array(z.object({ name: z.string(), source: KeySource })),
});
export type SettingsView = z.infer<typeof SettingsView>;
