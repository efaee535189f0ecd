// The application shell: header, air-gap warning and, for now, a placeholder
// where the ceremony wizard will go.
import { useEffect, useState } from 'react';
import type { AppInfo, IpcError } from '../shared/ipc.js';

/**
 * How often to ask main which network interfaces are up. A cable plugged in
 * mid-ceremony should be noticed within seconds, and the check is cheap.
 */
const NETWORK_CHECK_INTERVAL_MS = 5_000;

type AppInfoState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly info: AppInfo }
  | { readonly status: 'failed'; readonly error: IpcError };

export function App() {
  const appInfo = useAppInfo();

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="app-title">Key Ceremony</h1>
        {appInfo.status === 'ready' && <p className="app-version">Version {appInfo.info.version}</p>}
      </header>

      <NetworkStatus appInfo={appInfo} />

      <main className="app-main">
        <section className="panel" aria-labelledby="wizard-heading">
          <h2 id="wizard-heading">Ceremony wizard</h2>
          <p>
            The step-by-step ceremony wizard is coming. It will guide administrators and key custodians
            through creating admin identities, generating and splitting the master key, and writing the
            signed import bundle for the crypto units.
          </p>
        </section>
      </main>
    </div>
  );
}

function useAppInfo(): AppInfoState {
  const [state, setState] = useState<AppInfoState>({ status: 'loading' });

  useEffect(() => {
    let unmounted = false;

    async function refresh(): Promise<void> {
      let next: AppInfoState;
      try {
        const result = await window.keyCeremony.app.getInfo();
        next = result.ok ? { status: 'ready', info: result.value } : { status: 'failed', error: result.error };
      } catch (error) {
        // getInfo answers with a result, so a rejection means the bridge
        // itself is broken (the preload did not load, or main has no handler).
        next = { status: 'failed', error: { code: 'internal', message: String(error) } };
      }
      if (!unmounted) setState(next);
    }

    void refresh();
    const timer = window.setInterval(() => void refresh(), NETWORK_CHECK_INTERVAL_MS);
    return () => {
      unmounted = true;
      window.clearInterval(timer);
    };
  }, []);

  return state;
}

/**
 * The air-gap warning (DESIGN.md, "Air gap"). When the status cannot be read,
 * say so: an unknown network state is not a safe one.
 */
function NetworkStatus({ appInfo }: { readonly appInfo: AppInfoState }) {
  switch (appInfo.status) {
    case 'loading':
      return null;
    case 'failed':
      return (
        <div className="banner banner-unknown" role="alert">
          <p className="banner-title">The network status of this workstation is unknown</p>
          <p>{appInfo.error.message}</p>
        </div>
      );
    case 'ready': {
      const interfaces = appInfo.info.networkInterfacesUp;
      if (interfaces.length === 0) return null;
      return (
        <div className="banner banner-network" role="alert">
          <p className="banner-title">This workstation is connected to a network</p>
          <p>
            Network interfaces up: <strong>{interfaces.join(', ')}</strong>. A key ceremony must run on an
            air-gapped workstation: unplug every network cable and turn off Wi-Fi and Bluetooth.
          </p>
        </div>
      );
    }
    default:
      return assertNever(appInfo);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unexpected state: ${JSON.stringify(value)}`);
}
