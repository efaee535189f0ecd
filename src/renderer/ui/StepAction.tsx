// One way to draw a button that moves a ceremony on: it runs one call to main
// (with the sentence shown while it runs), is disabled while any call of its
// part of the screen runs, and that call's progress and error are shown in
// one place (StepStatus). Every wizard, the first ceremony's and the later
// ones (issue 11), draws its step buttons with it, so a screen says only what
// differs: the label, the busy sentence and the call.
import { createContext, useContext, type ReactNode } from 'react';
import type { IpcError, IpcResult } from '../../shared/ipc.js';
import { BusyStatus, ErrorNotice } from './Notices.js';

/** Runs one call whose answer is the wizard's new view; resolves true when it succeeded. */
export type RunStep<V> = (busyText: string, invoke: () => Promise<IpcResult<V>>) => Promise<boolean>;

interface StepRunner {
  /** The sentence of the call in flight, or null. */
  readonly busy: string | null;
  readonly error: IpcError | null;
  readonly run: RunStep<unknown>;
}

const StepContext = createContext<StepRunner | null>(null);

function useStepRunner(): StepRunner {
  const runner = useContext(StepContext);
  if (runner === null) throw new Error('A step button is drawn outside a StepScope.');
  return runner;
}

/**
 * The part of a screen whose step buttons share one call: `step` runs them
 * (and takes the answer as the view), `busy` and `error` are that call's.
 */
export function StepScope<V>({
  busy,
  error,
  step,
  children,
}: {
  readonly busy: string | null;
  readonly error: IpcError | null;
  readonly step: RunStep<V>;
  readonly children: ReactNode;
}) {
  // The buttons inside pass calls answering this scope's view V: each screen's
  // calls are its own session's (api().recovery.* in Recovery, and so on).
  const run = step as RunStep<unknown>;
  return <StepContext.Provider value={{ busy, error, run }}>{children}</StepContext.Provider>;
}

export type StepButtonKind = 'primary' | 'secondary' | 'quiet' | 'danger';

/**
 * A button that runs one step: disabled while a call of its scope runs (and
 * when `disabled`), showing `busyText` beneath while its call runs.
 */
export function StepButton<V>({
  label,
  busyText,
  invoke,
  kind = 'primary',
  large = false,
  disabled = false,
}: {
  readonly label: ReactNode;
  readonly busyText: string;
  readonly invoke: () => Promise<IpcResult<V>>;
  readonly kind?: StepButtonKind;
  /** The wizard's one main action on its step (the first ceremony's steps). */
  readonly large?: boolean;
  /** Disabled for a reason of the step's own (nothing to record yet), besides a call in flight. */
  readonly disabled?: boolean;
}) {
  const { busy, run } = useStepRunner();
  return (
    <button
      type="button"
      className={`button button-${kind}${large ? ' button-large' : ''}`}
      disabled={busy !== null || disabled}
      onClick={() => void run(busyText, invoke)}
    >
      {label}
    </button>
  );
}

/**
 * A form whose submit runs one step (`invoke` reads what was typed when the
 * form is sent); its StepSubmit button is the one that sends it.
 */
export function StepForm<V>({
  busyText,
  invoke,
  children,
  ...form
}: {
  readonly busyText: string;
  readonly invoke: () => Promise<IpcResult<V>>;
  readonly children: ReactNode;
  readonly className?: string;
  readonly 'aria-labelledby'?: string;
}) {
  const { run } = useStepRunner();
  return (
    <form
      {...form}
      onSubmit={(event) => {
        event.preventDefault();
        void run(busyText, invoke);
      }}
    >
      {children}
    </form>
  );
}

/** The submit button of a StepForm: disabled while a call of the scope runs (and when `disabled`). */
export function StepSubmit({
  label,
  kind = 'primary',
  disabled = false,
}: {
  readonly label: ReactNode;
  readonly kind?: StepButtonKind;
  readonly disabled?: boolean;
}) {
  const { busy } = useStepRunner();
  return (
    <button type="submit" className={`button button-${kind}`} disabled={busy !== null || disabled}>
      {label}
    </button>
  );
}

/** The call in flight of the scope, and the failure of its last call, in plain words. */
export function StepStatus() {
  const { busy, error } = useStepRunner();
  return (
    <>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
    </>
  );
}

/** True while a call of the scope runs: for a form's own submit button. */
export function useStepBusy(): boolean {
  return useStepRunner().busy !== null;
}
