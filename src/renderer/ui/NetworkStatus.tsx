// The air-gap warning (DESIGN.md, "Air gap"), polled from main every 5 s.
import { useEffect, useState } from 'react';
import type { AppInfo, IpcError } from '../../shared/ipc.js';
import { api, safeCall } from '../lib/bridge.js';
import { assertNever } from '../lib/format.js';

/**
 * How often to ask main which network interfaces are up. A cable plugged in
 * mid-ceremony should be noticed within seconds, and the check is cheap.
 */
const NETWORK_CHECK_INTERVAL_MS = 5_000;

export type AppInfoState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly info: AppInfo }
  | { readonly status: 'failed'; readonly error: IpcError };

export function useAppInfo(): AppInfoState {
  const [state, setState] = useState<AppInfoState>({ status: 'loading' });

  useEffect(() => {
    let unmounted = false;

    async function refresh(): Promise<void> {
      const result = await safeCall(() => api().app.getInfo());
      const next: AppInfoState = result.ok
        ? { status: 'ready', info: result.value }
        : { status: 'failed', error: result.error };
      if (unmounted) return;
      // Keep the previous object when nothing changed, so the banner does not
      // re-render (and re-announce) every five seconds.
      setState((previous) => (JSON.stringify(previous) === JSON.stringify(next) ? previous : next));
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

/** When the status cannot be read, say so: an unknown network state is not a safe one. */
export function NetworkStatus({ appInfo }: { readonly appInfo: AppInfoState }) {
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
            Network interfaces up: <strong>{interfaces.join(', ')}</strong>. A key ceremony must run on an air-gapped
            workstation: unplug every network cable and turn off Wi-Fi and Bluetooth.
          </p>
        </div>
      );
    }
    default:
      return assertNever(appInfo);
  }
}
