// The card-reader chooser with live status, polled from main every second
// while it is on screen. Changes are announced in one polite live region as
// short sentences ("Reader 1: card 12345678 inserted"), instead of making the
// whole list live and re-reading it every second.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { CardsView, LaterWizard, IpcError, ReaderView } from '../../shared/ipc.js';
import { api, safeCall } from '../lib/bridge.js';
import { plural } from '../lib/format.js';

const CARDS_POLL_INTERVAL_MS = 1_000;

/** The card a step needs, when it is known (a share's or an admin's card). */
export interface ExpectedCard {
  readonly serial: number;
  readonly owner: string;
}

function isWrongCard(reader: ReaderView, expected: ExpectedCard | null): boolean {
  return expected !== null && reader.card !== null && reader.card.serial !== expected.serial;
}

/** The status of one reader, in words. */
export function readerStatusText(reader: ReaderView, expected: ExpectedCard | null = null): string {
  if (!reader.present) return 'No card';
  if (reader.problem !== null) return reader.problem;
  const card = reader.card;
  if (card === null) return 'Card inserted, reading it…';
  if (expected !== null && isWrongCard(reader, expected)) {
    return `Card ${card.serial} — wrong card: ${expected.owner}\u2019s card is ${expected.serial}`;
  }
  let text = !card.prepared
    ? `Card ${card.serial} — not prepared (factory PIN)`
    : card.pinTriesLeft === 0
      ? `Card ${card.serial} — PIN blocked (unblock it with the PUK)`
      : `Card ${card.serial} — prepared, ${plural(card.pinTriesLeft, 'PIN try', 'PIN tries')} left`;
  if (card.adminName !== null) text += `; admin identity of ${card.adminName}`;
  return text;
}

function readerTone(reader: ReaderView, expected: ExpectedCard | null): 'empty' | 'ready' | 'problem' {
  if (!reader.present) return 'empty';
  if (
    isWrongCard(reader, expected) ||
    reader.problem !== null ||
    (reader.card !== null && (!reader.card.prepared || reader.card.pinTriesLeft === 0))
  ) {
    return 'problem';
  }
  return 'ready';
}

/** What changed between two polls, as sentences to announce. */
function describeChanges(previous: CardsView, next: CardsView, expected: ExpectedCard | null): string {
  const sentences: string[] = [];
  if (previous.serviceAvailable !== next.serviceAvailable) {
    sentences.push(next.serviceAvailable ? 'The smart-card service is running.' : 'The smart-card service stopped.');
  }
  for (const reader of next.readers) {
    const before = previous.readers.find((r) => r.name === reader.name);
    if (before === undefined) {
      sentences.push(`${reader.name} connected: ${readerStatusText(reader, expected)}.`);
    } else if (!before.present && reader.present) {
      sentences.push(`${reader.name}: card inserted. ${readerStatusText(reader, expected)}.`);
    } else if (before.present && !reader.present) {
      sentences.push(`${reader.name}: card removed.`);
    } else if (readerStatusText(before, expected) !== readerStatusText(reader, expected)) {
      sentences.push(`${reader.name}: ${readerStatusText(reader, expected)}.`);
    }
  }
  for (const reader of previous.readers) {
    if (!next.readers.some((r) => r.name === reader.name)) sentences.push(`${reader.name} disconnected.`);
  }
  return sentences.join(' ');
}

type PollState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly cards: CardsView }
  | { readonly status: 'failed'; readonly error: IpcError };

/**
 * The later ceremony's wizard a reader list is in (issue 11): main lists the
 * readers of the mode of the record that wizard opened (a rehearsal's
 * virtual readers, or PC/SC). Outside one, the initial ceremony's.
 */
export const CardsWizardContext = createContext<LaterWizard | null>(null);

function useCardsPolling(expected: ExpectedCard | null): { state: PollState; announcement: string } {
  const wizard = useContext(CardsWizardContext);
  const [state, setState] = useState<PollState>({ status: 'loading' });
  const [announcement, setAnnouncement] = useState('');
  const last = useRef<{ json: string; cards: CardsView | null }>({ json: '', cards: null });
  const expectedRef = useRef(expected);
  expectedRef.current = expected;

  useEffect(() => {
    let unmounted = false;
    let inFlight = false;

    async function poll(): Promise<void> {
      if (inFlight) return;
      inFlight = true;
      const result = await safeCall(() => (wizard ? api().cards.listForWizard({ wizard }) : api().cards.list()));
      inFlight = false;
      if (unmounted) return;
      const next: PollState = result.ok
        ? { status: 'ready', cards: result.value }
        : { status: 'failed', error: result.error };
      const json = JSON.stringify(next);
      // Only a change re-renders the list.
      if (json === last.current.json) return;
      if (next.status === 'ready') {
        const previous = last.current.cards;
        if (previous !== null) {
          const change = describeChanges(previous, next.cards, expectedRef.current);
          if (change !== '') setAnnouncement(change);
        }
        last.current = { json, cards: next.cards };
      } else {
        last.current = { json, cards: last.current.cards };
      }
      setState(next);
    }

    void poll();
    const timer = window.setInterval(() => void poll(), CARDS_POLL_INTERVAL_MS);
    return () => {
      unmounted = true;
      window.clearInterval(timer);
    };
  }, [wizard]);

  return { state, announcement };
}

export interface ReaderPickerProps {
  /** Unique per screen; prefixes the element ids and names the radio group. */
  readonly idPrefix: string;
  readonly selected: string | null;
  readonly onSelect: (reader: string | null) => void;
  /** A message to show when the form was sent without a reader. */
  readonly error?: string | null;
  /** The card this step needs, if known: any other card is marked as the wrong one. */
  readonly expected?: ExpectedCard | null;
  /** Shown under the list for the chosen reader (card care: prepare, unblock). */
  readonly renderSelected?: (reader: ReaderView) => ReactNode;
}

export function ReaderPicker({
  idPrefix,
  selected,
  onSelect,
  error = null,
  expected = null,
  renderSelected,
}: ReaderPickerProps) {
  const { state, announcement } = useCardsPolling(expected);
  const readers = state.status === 'ready' ? state.cards.readers : null;

  // Choose for the person when there is only one sensible choice, and forget a
  // reader that was unplugged.
  useEffect(() => {
    if (readers === null) return;
    const stillThere = selected !== null && readers.some((r) => r.name === selected);
    if (stillThere) return;
    const withCard = readers.filter((r) => r.present);
    const needed = expected !== null ? readers.find((r) => r.card?.serial === expected.serial) : undefined;
    const only = needed ?? (withCard.length === 1 ? withCard[0] : undefined);
    const next = only !== undefined ? only.name : null;
    if (next !== selected) onSelect(next);
  }, [readers, selected, onSelect, expected]);

  const errorId = `${idPrefix}-reader-error`;
  return (
    <fieldset className="reader-picker" aria-describedby={error !== null ? errorId : undefined}>
      <legend>Card reader</legend>
      {state.status === 'loading' && <p className="muted">Looking for card readers…</p>}
      {state.status === 'failed' && (
        <p className="inline-problem">The list of card readers could not be read: {state.error.message}</p>
      )}
      {state.status === 'ready' && !state.cards.serviceAvailable && (
        <div className="notice notice-warning">
          <p className="notice-title">The smart-card service is not running.</p>
          <p>Start it (pcscd) on this workstation; this list checks again every second.</p>
          {state.cards.problem !== null && <p className="notice-detail">{state.cards.problem}</p>}
        </div>
      )}
      {state.status === 'ready' && state.cards.serviceAvailable && state.cards.problem !== null && (
        <p className="inline-problem">{state.cards.problem}</p>
      )}
      {state.status === 'ready' && state.cards.serviceAvailable && state.cards.readers.length === 0 && (
        <p className="muted">No card reader is connected. Plug one in; it appears here within a second.</p>
      )}
      {readers !== null && readers.length > 0 && (
        <ul className="reader-list">
          {readers.map((reader, i) => {
            const inputId = `${idPrefix}-reader-${i}`;
            const statusId = `${inputId}-status`;
            const tone = readerTone(reader, expected);
            return (
              <li
                key={reader.name}
                className={`reader-option reader-${tone}${selected === reader.name ? ' reader-selected' : ''}`}
              >
                <input
                  type="radio"
                  id={inputId}
                  name={`${idPrefix}-reader`}
                  value={reader.name}
                  checked={selected === reader.name}
                  onChange={() => onSelect(reader.name)}
                  aria-describedby={statusId}
                />
                <label htmlFor={inputId} className="reader-name">
                  {reader.name}
                </label>
                <span id={statusId} className="reader-status">
                  {readerStatusText(reader, expected)}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {renderSelected !== undefined && readers !== null && selectedReader(readers, selected, renderSelected)}
      {error !== null && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
      <p className="visually-hidden" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
    </fieldset>
  );
}

function selectedReader(
  readers: readonly ReaderView[],
  selected: string | null,
  render: (reader: ReaderView) => ReactNode,
): ReactNode {
  const reader = readers.find((r) => r.name === selected);
  return reader === undefined ? null : render(reader);
}
