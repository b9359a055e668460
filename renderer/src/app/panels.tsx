// The side panels (spend, conflicts, review, settings): one open at a time, beside the grid (which one: the store's
// panels slice). Each panel is listed in PANELS.
import type { ComponentType } from 'react';
import { useStore } from '../store/index.ts';
import { SpendPanel } from '../features/spend/SpendPanel.tsx';
import { ConflictsPanel } from '../features/review/ConflictsPanel.tsx';
import { ReviewPanel } from '../features/review/ReviewPanel.tsx';
import { SettingsPanel } from '../features/settings/SettingsPanel.tsx';

export interface PanelDef {
  id: string;
  label: string;
  /** Keyboard shortcut shown in the button's title, e.g. "Ctrl+Shift+S" (handled by the panel's own code if any). */
  shortcut?: string;
  Component: ComponentType;
}

/** Add a panel here: { id, label, Component }. Order = order of the header buttons. */
export const PANELS: PanelDef[] = [
  { id: 'spend', label: 'Spend', Component: SpendPanel },
  { id: 'conflicts', label: 'Conflicts', Component: ConflictsPanel },
  { id: 'review', label: 'Review', Component: ReviewPanel },
  { id: 'settings', label: 'Settings', Component: SettingsPanel },
];

export function PanelButtons() {
  const open = useStore((s) => s.panel);
  const toggle = useStore((s) => s.togglePanel);
  return (
    <>
      {PANELS.map((p) => (
        <button
          key={p.id}
          className={`btn${open === p.id ? ' active' : ''}`}
          data-testid={`panel-button-${p.id}`}
          title={p.shortcut ? `${p.label} (${p.shortcut})` : p.label}
          onClick={() => toggle(p.id)}
        >
          {p.label}
        </button>
      ))}
    </>
  );
}

export function SidePanel() {
  const open = useStore((s) => s.panel);
  const show = useStore((s) => s.showPanel);
  const panel = PANELS.find((p) => p.id === open);
  if (!panel) return null;
  const { Component } = panel;
  return (
    <aside className="side-panel" data-testid={`panel-${panel.id}`}>
      <div className="side-panel-head">
        <span>{panel.label}</span>
        <button className="btn icon" title="Close" aria-label={`Close the ${panel.label} panel`} onClick={() => show(null)}>
          ×
        </button>
      </div>
      <div className="side-panel-body">
        <Component />
      </div>
    </aside>
  );
}
