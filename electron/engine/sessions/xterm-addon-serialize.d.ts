// The part of @xterm/addon-serialize the engine uses, typed against @xterm/headless. The package's own typings import
// @xterm/xterm, which pulls the DOM library into every program that includes them — the engine's tsconfig maps the
// module here so engine code cannot reach for `document` by accident (see build/tsconfig.base.json `paths`).
import type { ITerminalAddon, Terminal } from '@xterm/headless';

export declare class SerializeAddon implements ITerminalAddon {
  constructor();
  activate(terminal: Terminal): void;
  serialize(options?: { scrollback?: number; excludeModes?: boolean; excludeAltBuffer?: boolean }): string;
  dispose(): void;
}
