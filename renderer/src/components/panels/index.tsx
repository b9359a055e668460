// The side panels (spend, conflicts, review): one open at a time, beside the grid. Each panel registers itself in PANELS.
import type { ComponentType } from 'react';
import { create } from 'zustand';
import { SpendPanel } from './SpendPanel.tsx';
import { ConflictsPanel } from './ConflictsPanel.tsx';
import { ReviewPanel } from './ReviewPanel.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';

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

export const usePanels = create<{ open: string | null; toggle: (id: string) => void; show: (id: string | null) => void }>((set) => ({
  open: null,
  toggle: (id) => set((s) => ({ open: s.open === id ? null : id })),
  show: (id) => set({ open: id }),
}));

export function PanelButtons() {
  const open = usePanels((s) => s.open);
  const toggle = usePanels((s) => s.toggle);
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
  const open = usePanels((s) => s.open);
  const show = usePanels((s) => s.show);
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
