// The application shell: the header (with the ceremony and who is at the
// keyboard), the air-gap warning, and one of three screens: the start
// screen, the ceremony wizard, or the share check.
//
// The ceremony itself lives in main. The renderer keeps only the last
// CeremonyView main returned and replaces it with each answer; it never
// rebuilds ceremony state of its own.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CeremonyView, IpcError } from '../shared/ipc.js';
import { CheckRecord } from './check/CheckRecord.js';
import { CheckShare } from './check/CheckShare.js';
import { Recovery } from './recovery/Recovery.js';
import { UnitsBundle } from './units-bundle/UnitsBundle.js';
import { UnitsReport } from './units-report/UnitsReport.js';
import { api, safeCall } from './lib/bridge.js';
import { StartScreen } from './start/StartScreen.js';
import { ErrorNotice } from './ui/Notices.js';
import { NetworkStatus, useAppInfo } from './ui/NetworkStatus.js';
import { CardsWizardContext } from './ui/ReaderPicker.js';
import { RehearsalBanner } from './ui/RehearsalBanner.js';
import { Reshare } from './reshare/Reshare.js';
import { Rotation } from './rotation/Rotation.js';
import { Wizard } from './wizard/Wizard.js';

/** Which screen shows while no ceremony is set up. */
type IdleScreen =
  | 'start'
  | 'new-ceremony'
  | 'rehearse-ceremony'
  | 'check-share'
  | 'check-record'
  | 'recover'
  | 'reshare'
  | 'admin-change'
  | 'zeroize'
  | 'units-report'
  | 'rotate';

type LoadState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready' }
  | { readonly status: 'failed'; readonly error: IpcError };

export function App() {
  const appInfo = useAppInfo();
  const [load, setLoad] = useState<LoadState>({ status: 'loading' });
  const [view, setView] = useState<CeremonyView | null>(null);
  const [idleScreen, setIdleScreen] = useState<IdleScreen>('start');
  const [notice, setNotice] = useState<string | null>(null);
  const [atKeyboard, setAtKeyboard] = useState<string | null>(null);
  const viewRef = useRef<CeremonyView | null>(null);

  /** Takes main's latest view; notices when a ceremony ends (abandoned or reset). */
  const applyView = useCallback((next: CeremonyView) => {
    const previous = viewRef.current;
    viewRef.current = next;
    if (previous !== null && previous.setup !== null && next.setup === null) {
      setIdleScreen('start');
      setAtKeyboard(null);
      setNotice(
        previous.closed !== null
          ? 'The previous ceremony is complete and closed.'
          : 'The ceremony was abandoned. Its master key, if one was generated, is wiped from memory.',
      );
    }
    setView(next);
  }, []);

  const loadCeremony = useCallback(async () => {
    setLoad({ status: 'loading' });
    const result = await safeCall(() => api().ceremony.state());
    if (result.ok) {
      applyView(result.value);
      setLoad({ status: 'ready' });
    } else {
      setLoad({ status: 'failed', error: result.error });
    }
  }, [applyView]);

  useEffect(() => {
    void loadCeremony();
  }, [loadCeremony]);

  const setup = view?.setup ?? null;

  let body;
  if (load.status === 'failed') {
    body = (
      <main className="app-main">
        <h2>The ceremony could not be loaded</h2>
        <ErrorNotice error={load.error} />
        <button type="button" className="button button-primary" onClick={() => void loadCeremony()}>
          Try again
        </button>
      </main>
    );
  } else if (view === null) {
    body = (
      <main className="app-main">
        <p className="muted" role="status">
          Loading…
        </p>
      </main>
    );
  } else if (setup !== null || idleScreen === 'new-ceremony' || idleScreen === 'rehearse-ceremony') {
    body = (
      <Wizard
        startMode={idleScreen === 'rehearse-ceremony' ? 'rehearsal' : 'production'}
        view={view}
        onView={applyView}
        setAtKeyboard={setAtKeyboard}
        onCancelSetup={() => setIdleScreen('start')}
      />
    );
  } else if (idleScreen === 'check-share') {
    body = <CheckShare onBack={() => setIdleScreen('start')} />;
  } else if (idleScreen === 'check-record') {
    body = <CheckRecord onBack={() => setIdleScreen('start')} />;
  } else if (idleScreen === 'reshare') {
    body = (
      <CardsWizardContext.Provider value="reshare">
        <Reshare onBack={() => setIdleScreen('start')} />
      </CardsWizardContext.Provider>
    );
  } else if (idleScreen === 'recover') {
    body = (
      <CardsWizardContext.Provider value="recovery">
        <Recovery onBack={() => setIdleScreen('start')} />
      </CardsWizardContext.Provider>
    );
  } else if (idleScreen === 'rotate') {
    body = (
      <CardsWizardContext.Provider value="rotation">
        <Rotation onBack={() => setIdleScreen('start')} />
      </CardsWizardContext.Provider>
    );
  } else if (idleScreen === 'admin-change' || idleScreen === 'zeroize') {
    body = (
      <CardsWizardContext.Provider value="units-bundle">
        <UnitsBundle key={idleScreen} operation={idleScreen} onBack={() => setIdleScreen('start')} />
      </CardsWizardContext.Provider>
    );
  } else if (idleScreen === 'units-report') {
    body = <UnitsReport onBack={() => setIdleScreen('start')} />;
  } else {
    body = (
      <StartScreen
        notice={notice}
        onStartCeremony={() => {
          setNotice(null);
          setIdleScreen('new-ceremony');
        }}
        onRehearseCeremony={() => {
          setNotice(null);
          setIdleScreen('rehearse-ceremony');
        }}
        onCheckShare={() => {
          setNotice(null);
          setIdleScreen('check-share');
        }}
        onReshare={() => {
          setNotice(null);
          setIdleScreen('reshare');
        }}
        onCheckRecord={() => {
          setNotice(null);
          setIdleScreen('check-record');
        }}
        onRecover={() => {
          setNotice(null);
          setIdleScreen('recover');
        }}
        onChangeAdmins={() => {
          setNotice(null);
          setIdleScreen('admin-change');
        }}
        onZeroize={() => {
          setNotice(null);
          setIdleScreen('zeroize');
        }}
        onUnitsReport={() => {
          setNotice(null);
          setIdleScreen('units-report');
        }}
        onRotate={() => {
          setNotice(null);
          setIdleScreen('rotate');
        }}
      />
    );
  }

  return (
    <div className="app">
      <header className="app-header">
        <div className="app-header-row">
          <div className="app-brand">
            <h1 className="app-title">Key Ceremony</h1>
            {appInfo.status === 'ready' && <p className="app-version">Version {appInfo.info.version}</p>}
          </div>
          {setup !== null && view !== null && (
            <div className="ceremony-info">
              <p className="ceremony-name">{setup.ceremonyName}</p>
              <p className="ceremony-id">
                Ceremony ID <span className="mono">{view.ceremonyId}</span>
              </p>
              <p className={`at-keyboard${atKeyboard !== null ? ' at-keyboard-turn' : ''}`}>
                At the keyboard: <strong>{atKeyboard ?? setup.operator}</strong>
              </p>
            </div>
          )}
        </div>
        <NetworkStatus appInfo={appInfo} />
        {/* A rehearsal, from its Set up on (issue 11): on every screen until it is over. */}
        {(view?.mode === 'rehearsal' || (setup === null && idleScreen === 'rehearse-ceremony')) && <RehearsalBanner />}
      </header>
      {body}
    </div>
  );
}
