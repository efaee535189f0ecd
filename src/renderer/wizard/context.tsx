// What the wizard's steps share: the ceremony view (the single source of
// truth, always the last one main returned), and who is at the keyboard.
import { createContext, useCallback, useContext, useEffect } from 'react';
import type { CeremonyView, IpcError, IpcResult, StepId } from '../../shared/ipc.js';
import { STEPS } from '../../shared/ipc.js';
import { api, safeCall } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';

export interface CeremonyContextValue {
  readonly view: CeremonyView;
  readonly setView: (view: CeremonyView) => void;
  /** Moves the wizard on to the next step once the current one is done. */
  readonly goTo: (step: StepId) => void;
  /** Names the person at the keyboard during their turn; null gives it back to the operator. */
  readonly setAtKeyboard: (name: string | null) => void;
}

export const CeremonyContext = createContext<CeremonyContextValue | null>(null);

export function useCeremony(): CeremonyContextValue {
  const value = useContext(CeremonyContext);
  if (value === null) throw new Error('useCeremony() is used outside the wizard.');
  return value;
}

export function stepIndex(step: StepId): number {
  return STEPS.indexOf(step);
}

/** True when main reports `step` as done (the ceremony is past it). */
export function isStepDone(view: CeremonyView, step: StepId): boolean {
  return stepIndex(view.step) > stepIndex(step) || (step === 'close' && view.closed !== null);
}

/** Shows `name` as "At the keyboard" while the calling component is on screen. */
export function useAtKeyboard(name: string): void {
  const { setAtKeyboard } = useCeremony();
  useEffect(() => {
    setAtKeyboard(name);
    return () => setAtKeyboard(null);
  }, [name, setAtKeyboard]);
}

export interface CeremonyAction {
  readonly busy: string | null;
  readonly error: IpcError | null;
  /** Runs a call that answers with the new view; resolves true on success. */
  readonly act: (busyText: string, invoke: () => Promise<IpcResult<CeremonyView>>) => Promise<boolean>;
  readonly clearError: () => void;
}

/**
 * A call that changes the ceremony. On success the view main returns replaces
 * ours; on failure we ask main for the view again, because a failure can
 * still have moved things on (or show that the screen was out of date).
 */
export function useCeremonyAction(): CeremonyAction {
  const { setView } = useCeremony();
  const { busy, error, run, clearError } = useCall();

  const act = useCallback(
    async (busyText: string, invoke: () => Promise<IpcResult<CeremonyView>>): Promise<boolean> => {
      const result = await run(busyText, invoke);
      if (result === null) return false;
      if (result.ok) {
        setView(result.value);
        return true;
      }
      if (result.error.code !== 'Canceled') {
        const fresh = await safeCall(() => api().ceremony.state());
        if (fresh.ok) setView(fresh.value);
      }
      return false;
    },
    [run, setView],
  );

  return { busy, error, act, clearError };
}
