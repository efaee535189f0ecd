// Card care, in the place where the card is needed: a factory-fresh card is
// prepared (new PIN and PUK, random management key kept PIN-protected on the
// card), and a blocked PIN is unblocked with the PUK. The card's owner types
// the codes; they go to main in the one call that needs them and the fields
// are emptied as soon as it returns.
//
// This panel sits inside the secret form of its step, and HTML forbids a form
// inside a form, so it is a group whose Enter key runs its own action instead
// of submitting the step's form.
import { useContext, useId, useState, type KeyboardEvent } from 'react';
import type { CardsView, IpcResult, ReaderView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { BusyStatus, ErrorNotice, SuccessNotice } from './Notices.js';
import { CardsWizardContext } from './ReaderPicker.js';
import { SecretField } from './SecretField.js';

const FACTORY_PIN_HINT = 'A new card’s factory PIN is 123456.';

interface Field {
  readonly key: string;
  readonly label: string;
  readonly hint?: string;
  readonly maxLength: number;
}

export function CardCare({ reader }: { readonly reader: ReaderView }) {
  const card = reader.card;
  // In a later wizard, the card is among that wizard's readers (its record's mode), not the initial ceremony's.
  const wizard = useContext(CardsWizardContext);
  const [done, setDone] = useState<string | null>(null);
  if (!reader.present || card === null) return null;
  if (done !== null && card.prepared && card.pinTriesLeft > 0) return <SuccessNotice title={done} />;
  if (!card.prepared) {
    return (
      <CareForm
        key={`prepare-${card.serial}`}
        title={`Card ${card.serial} still has its factory PIN, PUK and management key`}
        explanation="Anyone could read what such a card holds, so it is prepared first: its owner chooses a new PIN (6 to 8 characters) and a new PUK (8 characters), and the card gets a random management key that only its PIN unlocks."
        fields={[
          { key: 'pin', label: 'Current PIN', hint: FACTORY_PIN_HINT, maxLength: 8 },
          { key: 'newPin', label: 'New PIN', maxLength: 8 },
          { key: 'newPinAgain', label: 'Repeat the new PIN', maxLength: 8 },
          { key: 'newPuk', label: 'New PUK', maxLength: 8 },
          { key: 'newPukAgain', label: 'Repeat the new PUK', maxLength: 8 },
        ]}
        action="Prepare the card"
        busyText="Preparing the card…"
        check={(v) =>
          v['newPin'] !== v['newPinAgain']
            ? 'The two new PINs differ.'
            : v['newPuk'] !== v['newPukAgain']
              ? 'The two new PUKs differ.'
              : null
        }
        send={(v) =>
          api().cards.prepare({
            reader: reader.name,
            pin: v['pin'] ?? '',
            newPin: v['newPin'] ?? '',
            newPuk: v['newPuk'] ?? '',
            ...(wizard ? { wizard } : {}),
          })
        }
        onDone={() => setDone(`Card ${card.serial} is prepared. Use its new PIN from now on.`)}
      />
    );
  }
  if (card.pinTriesLeft === 0) {
    return (
      <CareForm
        key={`unblock-${card.serial}`}
        title={`The PIN of card ${card.serial} is blocked`}
        explanation="Too many wrong PINs were typed. The card’s owner unblocks it with the PUK and chooses a new PIN. Nothing on the card is lost."
        fields={[
          { key: 'puk', label: 'PUK', maxLength: 8 },
          { key: 'newPin', label: 'New PIN', maxLength: 8 },
          { key: 'newPinAgain', label: 'Repeat the new PIN', maxLength: 8 },
        ]}
        action="Unblock the PIN"
        busyText="Unblocking the PIN…"
        check={(v) => (v['newPin'] !== v['newPinAgain'] ? 'The two new PINs differ.' : null)}
        send={(v) =>
          api().cards.unblock({
            reader: reader.name,
            puk: v['puk'] ?? '',
            newPin: v['newPin'] ?? '',
            ...(wizard ? { wizard } : {}),
          })
        }
        onDone={() => setDone(`The PIN of card ${card.serial} is unblocked. Use the new PIN.`)}
      />
    );
  }
  return null;
}

function CareForm(props: {
  readonly title: string;
  readonly explanation: string;
  readonly fields: readonly Field[];
  readonly action: string;
  readonly busyText: string;
  readonly check: (values: Record<string, string>) => string | null;
  readonly send: (values: Record<string, string>) => Promise<IpcResult<CardsView>>;
  readonly onDone: () => void;
}) {
  const { title, explanation, fields, action, busyText, check, send, onDone } = props;
  const prefix = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  // Secrets: the PINs and PUK typed here. Emptied right after the call.
  const [values, setValues] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const { busy, error, run } = useCall();

  async function submit(): Promise<void> {
    if (busy !== null) return;
    const missing = fields.find((f) => (values[f.key] ?? '').length === 0);
    const mismatch = check(values);
    if (missing !== undefined) {
      setProblem(`Type the ${missing.label.toLowerCase()}.`);
      return;
    }
    if (mismatch !== null) {
      setProblem(mismatch);
      return;
    }
    setProblem(null);
    const sent = { ...values };
    setValues({});
    const result = await run(busyText, () => send(sent));
    if (result?.ok === true) onDone();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>): void {
    if (event.key === 'Enter' && event.target instanceof HTMLInputElement) {
      event.preventDefault();
      void submit();
    }
  }

  return (
    <div
      className="card-care notice notice-warning"
      role="group"
      aria-labelledby={`${prefix}-title`}
      onKeyDown={onKeyDown}
    >
      <p id={`${prefix}-title`} className="notice-title">
        {title}
      </p>
      <p>{explanation}</p>
      <div className="field-grid">
        {fields.map((f) => (
          <SecretField
            key={f.key}
            id={`${prefix}-${f.key}`}
            label={f.label}
            maxLength={f.maxLength}
            value={values[f.key] ?? ''}
            onChange={(value) => setValues((v) => ({ ...v, [f.key]: value }))}
            hint={f.hint ?? null}
          />
        ))}
      </div>
      {problem !== null && <p className="field-error">{problem}</p>}
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          disabled={busy !== null}
          onClick={() => void submit()}
        >
          {action}
        </button>
      </div>
      <BusyStatus busy={busy} />
      <ErrorNotice error={error} />
    </div>
  );
}
