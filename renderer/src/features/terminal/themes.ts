// The terminals' look: font, line height and the two colour themes (dark follows the app's chrome; light for the light theme).
import type { ITheme } from '@xterm/xterm';

export const FONT_FAMILY = '"JetBrains Mono", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';
export const LINE_HEIGHT = 1.1;

export const DARK_THEME: ITheme = {
  background: '#0b0e14',
  foreground: '#c9d1d9',
  cursor: '#7aa2f7',
  cursorAccent: '#0b0e14',
  selectionBackground: '#264f78',
  black: '#1c2128',
  red: '#f7768e',
  green: '#9ece6a',
  yellow: '#e0af68',
  blue: '#7aa2f7',
  magenta: '#bb9af7',
  cyan: '#7dcfff',
  white: '#c0caf5',
  brightBlack: '#545c7e',
  brightRed: '#ff7a93',
  brightGreen: '#b9f27c',
  brightYellow: '#ff9e64',
  brightBlue: '#7da6ff',
  brightMagenta: '#c3a6ff',
  brightCyan: '#b4f9f8',
  brightWhite: '#ffffff',
};

export const LIGHT_THEME: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#0969da',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6d7ff',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#9a6700',
  blue: '#0969da',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#218bff',
  brightMagenta: '#a475f9',
  brightCyan: '#3192aa',
  brightWhite: '#8c959f',
};

export const themeOf = (t: 'dark' | 'light'): ITheme => (t === 'light' ? LIGHT_THEME : DARK_THEME);
