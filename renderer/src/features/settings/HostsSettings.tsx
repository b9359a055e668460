// Settings → Hosts: the machines whose engines this one shows in its grid. Add one (a name and anything ssh accepts:
// user@box, ssh://user@box:2222, a Host alias), see whether it answers, remove it (its sessions there carry on).
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { HostView } from '../../../../electron/shared/contract.ts';
import { hosts as hostsApi } from '../../api/index.ts';
import { useStore } from '../../store/index.ts';

const STATE: Record<HostView['state'], string> = {
  connected: 'connected',
  connecting: 'connecting…',
  reconnecting: 'unreachable — reconnecting',
  no_engine: 'no engine yet',
  unavailable: 'unavailable',
};

export function HostsSettings() {
  const list = useStore(useShallow((s) => [...s.hosts.values()]));
  const [name, setName] = useState('');
  const [destination, setDestination] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      useStore.getState().setHosts(await hostsApi.list());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="settings-section" data-testid="settings-hosts">
      <h3>Hosts</h3>
      <p className="settings-note dim">
        Other machines to run sessions on, over your own OpenSSH (~/.ssh/config, ProxyJump and agents work; never a password prompt).
        Flotilla installs its engine there on the first launch (the host needs Node 20 or newer); provider keys are handed over in memory
        only.
      </p>
      {list.length === 0 && <p className="dim small">No hosts yet: sessions run on this machine.</p>}
      {list.map((h) => (
        <div className="settings-key" key={h.name} data-testid={`host-row-${h.name}`}>
          <div className="settings-key-head">
            <code>{h.name}</code> <span className="dim">{h.destination}</span>
            <span className={`settings-key-state ${h.state === 'connected' ? 'set' : 'unset'}`} data-testid={`host-state-${h.name}`}>
              {STATE[h.state]}
              {h.attempt ? ` (${h.attempt})` : ''}
              {h.version ? ` · ${h.version}` : ''}
            </span>
            <button
              className="btn small"
              disabled={busy}
              data-testid={`host-remove-${h.name}`}
              onClick={() => void run(() => hostsApi.remove(h.name))}
            >
              Remove
            </button>
          </div>
          {h.message && h.state !== 'connected' && <p className="dim small">{h.message}</p>}
        </div>
      ))}
      <div className="settings-key-row">
        <input
          placeholder="name, e.g. buildbox"
          value={name}
          data-testid="host-new-name"
          onChange={(e) => setName(e.target.value.trim())}
        />
        <input
          placeholder="user@host, ssh://user@host:2222 or a Host alias"
          value={destination}
          data-testid="host-new-destination"
          onChange={(e) => setDestination(e.target.value)}
        />
        <button
          className="btn"
          disabled={busy || !name || !destination.trim()}
          data-testid="host-add"
          onClick={() =>
            void run(async () => {
              await hostsApi.add(name, destination.trim());
              setName('');
              setDestination('');
            })
          }
        >
          Add host
        </button>
      </div>
      {error && (
        <p className="settings-result error" data-testid="host-error">
          {error}
        </p>
      )}
    </section>
  );
}
