// Where a call's progress and failure are shown: next to the action that
// started it, never in a distant toast.
import type { ReactNode } from 'react';
import type { IpcError } from '../../shared/ipc.js';
import { explainError } from '../lib/errors.js';

/**
 * The failure of the last call, in plain words, with what to do next and the
 * core's own sentence. role="alert" so it is announced when it appears.
 */
export function ErrorNotice({ error }: { readonly error: IpcError | null }) {
  if (error === null || error.code === 'Canceled') return null;
  const { summary, next } = explainError(error);
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{summary}</p>
      {next !== null && <p>{next}</p>}
      {error.message !== '' && error.message !== summary && <p className="notice-detail">{error.message}</p>}
    </div>
  );
}

/**
 * The call in flight ("Writing the share to the card…"). The live region is
 * always in the page, so screen readers announce the text when it changes.
 */
export function BusyStatus({ busy }: { readonly busy: string | null }) {
  return (
    <p className="busy-status" role="status" aria-live="polite">
      {busy !== null && (
        <>
          <span className="spinner" aria-hidden="true" />
          {busy}
        </>
      )}
    </p>
  );
}

/** A plain, non-alarming confirmation of something that worked. */
export function SuccessNotice({ title, children }: { readonly title: string; readonly children?: ReactNode }) {
  return (
    <div className="notice notice-success">
      <p className="notice-title">
        <span aria-hidden="true">✓ </span>
        {title}
      </p>
      {children}
    </div>
  );
}
