// The pieces of the wizards that take shares in and give new ones out
// (recovery, re-share, rotation; issue 11) and sign bundles, each once: the
// choice of a medium, a person's turn with the file or card of their choice
// (a share brought, an admin signing), the roster of new custodians (names and
// media, in share order), and a new custodian's turn (their passphrase and
// file, or their card and PIN).
import { useId, useState, type ReactNode } from 'react';
import type { Medium, SecretInput } from '../../shared/ipc.js';
import { ScreenHeading } from './Heading.js';
import { PersonRosterRow } from './PersonRosterRow.js';
import { SecretForm } from './SecretForm.js';

/** "In a share file (passphrase)" or "On a smart card (PIN)", as radio buttons. */
export function MediumChoice({
  legend,
  medium,
  onChange,
  fileLabel = 'In a share file (passphrase)',
  cardLabel = 'On a smart card (PIN)',
}: {
  readonly legend: string;
  readonly medium: Medium;
  readonly onChange: (medium: Medium) => void;
  readonly fileLabel?: string;
  readonly cardLabel?: string;
}) {
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  return (
    <fieldset className="medium-choice">
      <legend>{legend}</legend>
      <div className="radio-row">
        <input
          type="radio"
          id={`${idPrefix}-file`}
          name={`${idPrefix}-medium`}
          checked={medium === 'file'}
          onChange={() => onChange('file')}
        />
        <label htmlFor={`${idPrefix}-file`}>{fileLabel}</label>
      </div>
      <div className="radio-row">
        <input
          type="radio"
          id={`${idPrefix}-card`}
          name={`${idPrefix}-medium`}
          checked={medium === 'card'}
          onChange={() => onChange('card')}
        />
        <label htmlFor={`${idPrefix}-card`}>{cardLabel}</label>
      </div>
    </fieldset>
  );
}

interface CustodianRow {
  readonly key: number;
  readonly name: string;
  readonly medium: Medium;
}

/** The rows of a roster, with the key the next added row gets. */
function useCustodianRows(initial: readonly { name: string; medium: Medium }[]) {
  const [rows, setRows] = useState<readonly CustodianRow[]>(() => initial.map((r, i) => ({ key: i, ...r })));
  const [nextKey, setNextKey] = useState(initial.length);
  return {
    rows,
    change: (key: number, patch: Partial<CustodianRow>): void =>
      setRows(rows.map((r) => (r.key === key ? { ...r, ...patch } : r))),
    remove: (key: number): void => setRows(rows.filter((r) => r.key !== key)),
    add: (): void => {
      setRows([...rows, { key: nextKey, name: '', medium: 'file' }]);
      setNextKey(nextKey + 1);
    },
  };
}

/**
 * The new custodians, in share order: each one's name and medium, in the
 * rows the Set up's rosters use (PersonRosterRow).
 */
function CustodianRoster({ rows }: { readonly rows: ReturnType<typeof useCustodianRows> }) {
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  return (
    <fieldset className="group">
      <legend>New custodians (N′ = {rows.rows.length})</legend>
      <ol className="roster">
        {rows.rows.map((row, i) => (
          <PersonRosterRow
            key={row.key}
            nameField={
              <PlainField
                className="roster-name"
                id={`${idPrefix}-name-${row.key}`}
                label={`New custodian ${i + 1} name`}
                value={row.name}
                onChange={(name) => rows.change(row.key, { name })}
              />
            }
            mediumId={`${idPrefix}-medium-${row.key}`}
            mediumLabel={`New custodian ${i + 1} medium`}
            medium={row.medium}
            onMedium={(medium) => rows.change(row.key, { medium })}
            removeWhat={`new custodian ${i + 1}`}
            canRemove={rows.rows.length > 1}
            onRemove={() => rows.remove(row.key)}
          />
        ))}
      </ol>
      <button type="button" className="button button-secondary" onClick={rows.add}>
        Add new custodian
      </button>
    </fieldset>
  );
}

/**
 * A new set's plan as typed (re-share, rotation): the operator (the record's
 * actor), K and the new custodians; `request` is what the session's plan call
 * takes.
 */
export function useNewSetPlan(threshold: number, custodians: readonly { name: string; medium: Medium }[]) {
  const [operator, setOperator] = useState('');
  const [k, setK] = useState(String(threshold));
  const rows = useCustodianRows(custodians);
  return {
    operator,
    setOperator,
    threshold: k,
    setThreshold: setK,
    rows,
    request: () => ({
      operator,
      threshold: Number.parseInt(k, 10) || 0,
      custodians: rows.rows.map((r) => ({ name: r.name, medium: r.medium })),
    }),
  };
}

/** The plan's fields: the screen's own first (`children`: a rotation's new key name), the operator, K, the roster. */
export function NewSetPlanFields({
  plan,
  thresholdLabel,
  children,
}: {
  readonly plan: ReturnType<typeof useNewSetPlan>;
  readonly thresholdLabel: string;
  readonly children?: ReactNode;
}) {
  const idPrefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  return (
    <>
      <div className="field-grid">
        {children}
        <PlainField id={`${idPrefix}-operator`} label="Operator" value={plan.operator} onChange={plan.setOperator} />
        <PlainField
          id={`${idPrefix}-threshold`}
          label={thresholdLabel}
          numeric
          value={plan.threshold}
          onChange={plan.setThreshold}
        />
      </div>
      <CustodianRoster rows={plan.rows} />
    </>
  );
}

/** A labelled text field of a new set's plan (a name, the operator, K). */
export function PlainField({
  id,
  label,
  value,
  numeric = false,
  className,
  onChange,
}: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly numeric?: boolean;
  /** Extra class on the field (a roster row lays its name out beside the medium). */
  readonly className?: string;
  readonly onChange: (value: string) => void;
}) {
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className={numeric ? 'input input-number' : 'input'}
        type="text"
        {...(numeric ? { inputMode: 'numeric' as const } : {})}
        autoComplete="off"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

export interface NewCustodianTurnView {
  readonly shareIndex: number;
  readonly name: string;
  readonly medium: Medium;
  readonly destination: string | null;
}

/** What the screen says while a new custodian's choice is checked and kept (busy). */
export function newShareBusy(medium: Medium): string {
  return medium === 'card' ? 'Checking the card and its PIN…' : 'Keeping the choice until the shares are written…';
}

/**
 * The new set, one custodian at a time: who is ready and where their share
 * goes, then the next custodian's turn (new passphrase and file, or card and
 * PIN). A card is checked when its custodian chooses it (prepared, a free key
 * slot, the PIN: NewShareSet.choose), and only that card, by serial, receives
 * the share. `whenAllReady` once nobody is left; `cardNote` adds what a
 * ceremony allows of a card (a re-share: the card of a current share).
 */
export function NewShareTurns({
  custodians,
  busy,
  headingId,
  cardNote,
  onSubmit,
  whenAllReady,
}: {
  readonly custodians: readonly NewCustodianTurnView[];
  readonly busy: string | null;
  readonly headingId: string;
  readonly cardNote?: string;
  /** `busyLabel`: newShareBusy's words for the medium. */
  readonly onSubmit: (shareIndex: number, secret: SecretInput, busyLabel: string) => Promise<boolean>;
  readonly whenAllReady: ReactNode;
}) {
  const next = custodians.find((c) => c.destination === null);
  return (
    <>
      <ol className="new-shares">
        {custodians.map((c) => (
          <li key={c.shareIndex}>
            {`Share ${c.shareIndex}: ${c.name}, ${c.medium === 'card' ? 'smart card' : 'file'} — `}
            {c.destination === null ? 'not ready yet' : `ready (${c.destination})`}
          </li>
        ))}
      </ol>
      {next !== undefined ? (
        <section aria-labelledby={headingId}>
          <ScreenHeading level={3} id={headingId}>
            {`Pass the keyboard to ${next.name}: new share ${next.shareIndex} of ${custodians.length}`}
          </ScreenHeading>
          <SecretForm
            key={next.shareIndex}
            medium={next.medium}
            newPassphrase={next.medium === 'file'}
            submitLabel={next.medium === 'file' ? 'Choose where to save the share…' : 'Check and use this card'}
            busy={busy}
            error={null}
            onSubmit={(secret) => onSubmit(next.shareIndex, secret, newShareBusy(secret.medium))}
          >
            {next.medium === 'file' ? (
              <p>
                Choose the new share’s passphrase (typed twice). After you press the button, choose where to save it.
              </p>
            ) : (
              <p>
                {`Insert the card that will hold your new share, choose its reader and type its PIN. The card is checked now (its PIN, and a free key slot: nothing on it is overwritten); leave it in its reader until the shares are written.${cardNote === undefined ? '' : ` ${cardNote}`}`}
              </p>
            )}
          </SecretForm>
        </section>
      ) : (
        <>
          {custodians.some((c) => c.medium === 'card') && (
            <p>
              Leave every card in the reader it was checked in: each new card share is written to the card chosen for
              it, and to no other.
            </p>
          )}
          {whenAllReady}
        </>
      )}
    </>
  );
}

/** The wording of a custodian's turn to bring a share of the current set (recovery, re-share). */
export const BRING_SHARE = {
  legend: 'Where is the next custodian’s share?',
  fileHelp: 'Type your share file’s passphrase. After you press the button, choose the share file.',
  cardHelp: 'Insert your card, choose its reader and type its PIN.',
} as const;

/**
 * A person's turn with a file or a card, their choice: the medium, then the
 * secret form for it (passphrase, or reader and PIN). `turn` changes when the
 * turn passes to the next person, which empties the form.
 */
export function MediumSecretForm({
  legend,
  turn,
  busy,
  submitLabel,
  fileHelp,
  cardHelp,
  fileLabel,
  cardLabel,
  onSubmit,
}: {
  readonly legend: string;
  readonly turn: number;
  readonly busy: string | null;
  readonly submitLabel: (medium: Medium) => string;
  readonly fileHelp: string;
  readonly cardHelp: string;
  readonly fileLabel?: string;
  readonly cardLabel?: string;
  readonly onSubmit: (secret: SecretInput) => Promise<boolean>;
}) {
  const [medium, setMedium] = useState<Medium>('file');
  return (
    <>
      <MediumChoice
        legend={legend}
        medium={medium}
        onChange={setMedium}
        {...(fileLabel !== undefined ? { fileLabel } : {})}
        {...(cardLabel !== undefined ? { cardLabel } : {})}
      />
      <SecretForm
        key={`${medium}-${turn}`}
        medium={medium}
        submitLabel={submitLabel(medium)}
        busy={busy}
        error={null}
        onSubmit={onSubmit}
      >
        <p>{medium === 'file' ? fileHelp : cardHelp}</p>
      </SecretForm>
    </>
  );
}
