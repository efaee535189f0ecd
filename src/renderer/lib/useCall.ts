// Runs one call to main at a time for a part of the screen, with the state
// that part needs to show: a busy sentence while it runs and the error when it
// fails. A person closing a file dialog (`Canceled`) is not an error.
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { IpcError, IpcResult } from '../../shared/ipc.js';
import { safeCall } from './bridge.js';

/** Counts calls in flight across the window, so global actions can wait. */
export interface BusyTracker {
  begin(): void;
  end(): void;
}
export const BusyContext = createContext<BusyTracker>({ begin() {}, end() {} });

export interface CallState {
  /** The sentence describing the call in flight, or null. */
  readonly busy: string | null;
  readonly error: IpcError | null;
  readonly run: <T>(busyText: string, invoke: () => Promise<IpcResult<T>>) => Promise<IpcResult<T> | null>;
  readonly clearError: () => void;
}

export function useCall(): CallState {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const running = useRef(false);
  const mounted = useRef(false);
  const tracker = useContext(BusyContext);
  const restoreFocus = useRef<HTMLElement | null>(null);

  // Once the call is over and its button enabled again, give focus back to it
  // if nothing else took it (a new screen focuses its own heading instead).
  useEffect(() => {
    if (busy !== null) return;
    const element = restoreFocus.current;
    restoreFocus.current = null;
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (lost && element !== null && element.isConnected) element.focus();
  }, [busy]);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(
    async <T>(busyText: string, invoke: () => Promise<IpcResult<T>>): Promise<IpcResult<T> | null> => {
      // A second click (or Enter) while a call runs is ignored, not queued.
      if (running.current) return null;
      running.current = true;
      // The button that started the call is disabled while it runs, which
      // drops keyboard focus to <body>; it is given back afterwards.
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      setBusy(busyText);
      setError(null);
      tracker.begin();
      try {
        const result = await safeCall(invoke);
        if (mounted.current && !result.ok && result.error.code !== 'Canceled') setError(result.error);
        return result;
      } finally {
        running.current = false;
        tracker.end();
        restoreFocus.current = focused;
        if (mounted.current) setBusy(null);
      }
    },
    [tracker],
  );

  const clearError = useCallback(() => setError(null), []);
  return { busy, error, run, clearError };
}
