// Step 1, Set up: the ceremony's names, K of N, the admins' thresholds and
// the roster, with the separation-of-duties rules of issue 11 (a custodian
// who is also an admin, or a signature threshold of 1, needs a reason that is
// recorded; a production ceremony needs an independent witness). Checked here
// as the person types (after the first attempt), and again by main (core's
// checkSetup), whose answer is shown next to the button. The form can be
// filled from a plan (SETUP.json) and saved as one (SetupPlan.tsx).
import { useLayoutEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { CeremonyMode, CeremonySetup, Medium, PlanForm, PlanOpenedView, PlanUnit } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { PersonRosterRow } from '../ui/PersonRosterRow.js';
import { differencesFromPlan, PlanPanel, type FormPlan } from './SetupPlan.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony, useCeremonyAction } from './context.js';

/** Shamir over GF(2^8): at most 255 shares (DESIGN.md, "Master key"). */
const MAX_CUSTODIANS = 255;
const MIN_CUSTODIANS = 2;
const MIN_ADMINS = 1;

interface PersonRow {
  readonly key: number;
  readonly name: string;
  readonly medium: Medium;
}
interface WitnessRow {
  readonly key: number;
  readonly name: string;
}
/** A crypto unit the plan names; only the plan uses it (the Units step loads and confirms the unit itself). */
interface UnitRow {
  readonly key: number;
  readonly id: string;
  readonly fingerprint: string;
}

interface SetupForm {
  readonly ceremonyName: string;
  readonly keyName: string;
  readonly threshold: string;
  readonly signatureThreshold: string;
  readonly revocationThreshold: string;
  readonly operator: string;
  readonly admins: readonly PersonRow[];
  readonly custodians: readonly PersonRow[];
  readonly witnesses: readonly WitnessRow[];
  readonly units: readonly UnitRow[];
  /** Kept while hidden, so a reason typed is not lost when a name is corrected and back. */
  readonly reasonCustodianIsAdmin: string;
  readonly reasonSignatureThresholdOne: string;
}

type Role = 'admin' | 'custodian' | 'witness' | 'unit';
const ROLE_WORD: Record<Role, string> = { admin: 'Admin', custodian: 'Custodian', witness: 'Witness', unit: 'Unit' };

let nextRowKey = 1;
const newPerson = (): PersonRow => ({ key: nextRowKey++, name: '', medium: 'card' });
const newWitness = (): WitnessRow => ({ key: nextRowKey++, name: '' });
const newUnit = (): UnitRow => ({ key: nextRowKey++, id: '', fingerprint: '' });

function emptyForm(): SetupForm {
  return {
    ceremonyName: '',
    keyName: '',
    threshold: '2',
    signatureThreshold: '2',
    revocationThreshold: '2',
    operator: '',
    admins: [newPerson(), newPerson()],
    custodians: [newPerson(), newPerson(), newPerson()],
    witnesses: [newWitness()],
    units: [],
    reasonCustodianIsAdmin: '',
    reasonSignatureThresholdOne: '',
  };
}

const FIELD = {
  ceremonyName: 'setup-ceremony-name',
  keyName: 'setup-key-name',
  threshold: 'setup-threshold',
  signatureThreshold: 'setup-signature-threshold',
  revocationThreshold: 'setup-revocation-threshold',
  operator: 'setup-operator',
  reasonCustodianIsAdmin: 'setup-reason-custodian-is-admin',
  reasonSignatureThresholdOne: 'setup-reason-signature-threshold-one',
  addWitness: 'setup-add-witness',
  addUnit: 'setup-add-unit',
} as const;
const rowNameId = (role: Role, key: number): string => `setup-${role}-${key}-name`;
const rowMediumId = (role: Role, key: number): string => `setup-${role}-${key}-medium`;
const rowFingerprintId = (key: number): string => `setup-unit-${key}-fingerprint`;

/** Field id → message; the insertion order is the order on screen. */
type Problems = Map<string, string>;

function parseWhole(text: string): number | null {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : null;
}

/** Names compare as core compares them: trimmed, without case. */
const personKey = (name: string): string => name.trim().toLowerCase();

/** The custodians who are also admins (by name), as typed. */
function custodiansWhoAreAdmins(form: SetupForm): string[] {
  const admins = new Set(form.admins.map((a) => personKey(a.name)).filter((k) => k !== ''));
  return form.custodians.map((c) => c.name.trim()).filter((name) => admins.has(personKey(name)));
}

/** Whether the reason for a signature threshold of 1 is asked for. */
const signatureThresholdIsOne = (form: SetupForm): boolean => parseWhole(form.signatureThreshold) === 1;

function quoted(names: readonly string[]): string {
  const q = names.map((n) => `“${n}”`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} and ${q.at(-1)!}`;
}

/** What a witness also is, or null for a witness who holds no share and no admin identity. */
function otherRoleOf(form: SetupForm, witness: string): string | null {
  const k = personKey(witness);
  const custodian = form.custodians.some((c) => personKey(c.name) === k);
  const admin = form.admins.some((a) => personKey(a.name) === k);
  if (custodian && admin) return 'a custodian and an admin';
  if (custodian) return 'a custodian';
  if (admin) return 'an admin';
  return null;
}

function checkNames(problems: Problems, role: Role, rows: readonly { key: number; name: string }[]): void {
  const seen = new Set<string>();
  rows.forEach((row) => {
    const name = row.name.trim();
    const id = rowNameId(role, row.key);
    if (name === '') problems.set(id, `Type the ${role}’s name.`);
    else if (seen.has(name.toLowerCase()))
      problems.set(id, `Another ${role} already has this name; each needs a distinct name.`);
    seen.add(name.toLowerCase());
  });
}

/** The form's problems; a rehearsal (issue 11) needs no independent witness. */
function validate(form: SetupForm, mode: CeremonyMode = 'production'): Problems {
  const problems: Problems = new Map();
  if (form.ceremonyName.trim() === '') problems.set(FIELD.ceremonyName, 'Give the ceremony a name.');
  if (form.keyName.trim() === '') problems.set(FIELD.keyName, 'Name the master key.');
  if (form.operator.trim() === '') problems.set(FIELD.operator, 'Type the operator’s name.');

  const n = form.custodians.length;
  const k = parseWhole(form.threshold);
  if (n < MIN_CUSTODIANS) problems.set(FIELD.threshold, `Add at least ${MIN_CUSTODIANS} custodians.`);
  else if (n > MAX_CUSTODIANS) problems.set(FIELD.threshold, `At most ${MAX_CUSTODIANS} custodians.`);
  else if (k === null || k < 2 || k > n)
    problems.set(FIELD.threshold, `K must be a whole number from 2 to ${n} (the number of custodians).`);

  const admins = form.admins.length;
  const s = parseWhole(form.signatureThreshold);
  if (admins < MIN_ADMINS) problems.set(FIELD.signatureThreshold, 'Add at least one admin.');
  else if (s === null || s < 1 || s > admins) {
    problems.set(
      FIELD.signatureThreshold,
      `The signature threshold must be a whole number from 1 to ${admins} (the number of admins).`,
    );
  }
  const r = parseWhole(form.revocationThreshold);
  if (admins >= MIN_ADMINS && (r === null || r < 1 || r > admins)) {
    problems.set(
      FIELD.revocationThreshold,
      `The revocation threshold must be a whole number from 1 to ${admins} (the number of admins); more would lock the units out.`,
    );
  }
  if (signatureThresholdIsOne(form) && form.reasonSignatureThresholdOne.trim() === '')
    problems.set(
      FIELD.reasonSignatureThresholdOne,
      'Say why one admin’s signature is enough, or raise the signature threshold.',
    );

  checkNames(problems, 'admin', form.admins);
  checkNames(problems, 'custodian', form.custodians);
  const both = custodiansWhoAreAdmins(form);
  if (both.length > 0 && form.reasonCustodianIsAdmin.trim() === '') {
    problems.set(
      FIELD.reasonCustodianIsAdmin,
      `${quoted(both)} ${both.length === 1 ? 'is' : 'are'} both a custodian and an admin: say why, or choose another person.`,
    );
  }
  checkNames(problems, 'witness', form.witnesses);
  if (mode === 'production') checkIndependentWitness(problems, form);
  return problems;
}

/** A production ceremony needs a witness who holds no share and no admin identity (issue 11). */
function checkIndependentWitness(problems: Problems, form: SetupForm): void {
  const named = form.witnesses.filter((w) => w.name.trim() !== '');
  if (named.some((w) => otherRoleOf(form, w.name) === null)) return;
  if (form.witnesses.length === 0) {
    problems.set(FIELD.addWitness, 'Add a witness who holds no share and no admin identity.');
    return;
  }
  for (const w of named) {
    problems.set(
      rowNameId('witness', w.key),
      `${quoted([w.name.trim()])} is also ${otherRoleOf(form, w.name)!}, so does not count as the independent witness; add a witness who holds no share and no admin identity.`,
    );
  }
}

function toSetup(form: SetupForm): CeremonySetup {
  return {
    ceremonyName: form.ceremonyName.trim(),
    keyName: form.keyName.trim(),
    threshold: Number(form.threshold),
    signatureThreshold: Number(form.signatureThreshold),
    revocationThreshold: Number(form.revocationThreshold),
    operator: form.operator.trim(),
    admins: form.admins.map((a) => ({ name: a.name.trim(), medium: a.medium })),
    custodians: form.custodians.map((c) => ({ name: c.name.trim(), medium: c.medium })),
    witnesses: form.witnesses.map((w) => w.name.trim()),
    // Only the reasons that apply: a hidden field is not sent.
    reasons: {
      ...(custodiansWhoAreAdmins(form).length > 0 ? { custodianIsAdmin: form.reasonCustodianIsAdmin.trim() } : {}),
      ...(signatureThresholdIsOne(form) ? { signatureThresholdOne: form.reasonSignatureThresholdOne.trim() } : {}),
    },
  };
}

/** A fingerprint as typed: spaces between groups allowed, any case. */
const bareHex = (text: string): string => text.replace(/\s+/g, '').toLowerCase();

/** The units a plan names (checked again by main, which words the same rules for the file). */
function validateUnits(form: SetupForm): Problems {
  const problems: Problems = new Map();
  if (form.units.length === 0)
    problems.set(FIELD.addUnit, 'A plan names the crypto units its bundle goes to: add at least one.');
  const seen = new Set<string>();
  for (const u of form.units) {
    const id = u.id.trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
      problems.set(rowNameId('unit', u.key), 'Type the unit’s id: 1 to 64 letters, digits, “.”, “_” or “-”.');
    else if (seen.has(id)) problems.set(rowNameId('unit', u.key), 'Another unit already has this id.');
    seen.add(id);
    const fp = bareHex(u.fingerprint);
    if (fp !== '' && !/^[0-9a-f]{64}$/.test(fp))
      problems.set(rowFingerprintId(u.key), 'Type the 64 hex digits of the fingerprint, or leave it empty.');
  }
  return problems;
}

function planUnitsOf(form: SetupForm): PlanUnit[] {
  return form.units.map((u) => {
    const fp = bareHex(u.fingerprint);
    return { id: u.id.trim(), transportFingerprint: fp === '' ? null : fp };
  });
}

function toPlanForm(form: SetupForm): PlanForm {
  return { setup: toSetup(form), units: planUnitsOf(form) };
}

/** An opened plan as the form's rows. */
function formOfPlan(plan: PlanOpenedView): SetupForm {
  const { setup } = plan;
  const person = (p: { name: string; medium: Medium }): PersonRow => ({ ...newPerson(), ...p });
  return {
    ceremonyName: setup.ceremonyName,
    keyName: setup.keyName,
    threshold: String(setup.threshold),
    signatureThreshold: String(setup.signatureThreshold),
    revocationThreshold: String(setup.revocationThreshold),
    operator: setup.operator,
    admins: setup.admins.map(person),
    custodians: setup.custodians.map(person),
    witnesses: setup.witnesses.map((name) => ({ ...newWitness(), name })),
    units: plan.units.map((u) => ({ ...newUnit(), id: u.id, fingerprint: u.transportFingerprint ?? '' })),
    reasonCustodianIsAdmin: setup.reasons.custodianIsAdmin ?? '',
    reasonSignatureThresholdOne: setup.reasons.signatureThresholdOne ?? '',
  };
}

export function SetupStep({ mode }: { readonly mode: CeremonyMode }) {
  const { goTo } = useCeremony();
  const { busy, error, act } = useCeremonyAction();
  const [form, setForm] = useState<SetupForm>(emptyForm);
  const [attempted, setAttempted] = useState(false);
  /** A plan action was tried: the units are checked too. */
  const [planAttempted, setPlanAttempted] = useState(false);
  const [plan, setPlan] = useState<FormPlan | null>(null);
  const planCall = useCall();
  const [focusAfterRender, setFocusAfterRender] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement | null>(null);

  const problems = new Map<string, string>([
    ...(attempted || planAttempted ? validate(form, planAttempted ? 'production' : mode) : []),
    ...(planAttempted ? validateUnits(form) : []),
  ]);
  const differences = plan === null ? [] : differencesFromPlan(toSetup(form), planUnitsOf(form), plan);

  useLayoutEffect(() => {
    if (focusAfterRender === null) return;
    document.getElementById(focusAfterRender)?.focus();
    setFocusAfterRender(null);
  }, [focusAfterRender]);

  function update<F extends keyof SetupForm>(field: F, value: SetupForm[F]): void {
    setForm((previous) => ({ ...previous, [field]: value }));
  }

  async function submit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (busy !== null) return;
    setAttempted(true);
    setPlanAttempted(false); // Start does not take the units: only a plan does
    const found = validate(form, mode);
    const first = found.keys().next();
    if (!first.done) {
      document.getElementById(first.value)?.focus();
      return;
    }
    const fromPlan = plan === null ? {} : { fromPlan: { sha256: plan.file.sha256 } };
    const ok = await act(mode === 'rehearsal' ? 'Starting the rehearsal…' : 'Starting the ceremony…', () =>
      api().ceremony.start({ ...toSetup(form), ...fromPlan, ...(mode === 'rehearsal' ? { mode } : {}) }),
    );
    if (ok) goTo('units');
  }

  /** Checks the form and the units as a plan; focuses the first problem. */
  function planReady(): boolean {
    setPlanAttempted(true);
    const first = new Map([...validate(form), ...validateUnits(form)]).keys().next();
    if (first.done) return true;
    document.getElementById(first.value)?.focus();
    return false;
  }

  async function openPlan(): Promise<void> {
    const r = await planCall.run('Opening the plan…', () => api().plan.open());
    if (r === null || !r.ok) return;
    const { setup, units, notes, ...file } = r.value;
    setForm(formOfPlan(r.value));
    setAttempted(false);
    setPlanAttempted(false);
    setPlan({ origin: 'opened', file, setup, units, notes });
  }

  async function savePlan(): Promise<void> {
    if (!planReady()) return;
    const request = toPlanForm(form);
    // The plan the form came from: what the form cannot hold of it (card serials, bag numbers) is kept.
    const fromPlan = plan === null ? {} : { fromPlan: { sha256: plan.file.sha256 } };
    const r = await planCall.run('Saving the plan…', () => api().plan.save({ ...request, ...fromPlan }));
    if (r === null || !r.ok) return;
    const { notes, ...file } = r.value;
    setPlan({ origin: 'saved', file, setup: request.setup, units: request.units, notes });
  }

  async function printScript(): Promise<void> {
    if (!planReady()) return;
    const fromPlan = plan === null ? {} : { fromPlan: { sha256: plan.file.sha256 } };
    await planCall.run('Printing the ceremony script…', () =>
      api().plan.printScript({ ...toPlanForm(form), ...fromPlan }),
    );
  }

  const n = form.custodians.length;
  const adminCount = Math.max(1, form.admins.length);
  const custodianAdmins = custodiansWhoAreAdmins(form);

  return (
    <StepFrame title="Set up the ceremony">
      <p className="lead">
        Name the ceremony and the key, choose how many shares rebuild the key, and list everyone taking part. Nothing is
        created until you press “Start the ceremony”.
      </p>
      <form ref={formRef} className="setup-form" onSubmit={(event) => void submit(event)} noValidate>
        <PlanPanel
          plan={plan}
          differences={differences}
          busy={planCall.busy}
          error={planCall.error}
          disabled={busy !== null}
          onOpen={() => void openPlan()}
          onSave={() => void savePlan()}
          onPrint={() => void printScript()}
        />
        <fieldset className="group">
          <legend>The ceremony</legend>
          <div className="field-grid">
            <TextField
              id={FIELD.ceremonyName}
              label="Ceremony name"
              value={form.ceremonyName}
              problem={problems.get(FIELD.ceremonyName)}
              onChange={(v) => update('ceremonyName', v)}
            />
            <TextField
              id={FIELD.keyName}
              label="Key name"
              value={form.keyName}
              problem={problems.get(FIELD.keyName)}
              onChange={(v) => update('keyName', v)}
            />
            <TextField
              id={FIELD.operator}
              label="Operator"
              value={form.operator}
              problem={problems.get(FIELD.operator)}
              onChange={(v) => update('operator', v)}
              hint="The person at the keyboard between turns."
            />
          </div>
        </fieldset>

        <fieldset className="group">
          <legend>Thresholds</legend>
          <div className="field-grid">
            <TextField
              id={FIELD.threshold}
              label="Shares needed to recover (K)"
              value={form.threshold}
              inputMode="numeric"
              problem={problems.get(FIELD.threshold)}
              onChange={(v) => update('threshold', v)}
              hint={`Out of N = ${n} shares, one per custodian. From 2 to ${Math.max(2, n)}.`}
            />
            <TextField
              id={FIELD.signatureThreshold}
              label="Signature threshold"
              value={form.signatureThreshold}
              inputMode="numeric"
              problem={problems.get(FIELD.signatureThreshold)}
              onChange={(v) => update('signatureThreshold', v)}
              hint={`Admin signatures each bundle needs. From 1 to ${adminCount}.`}
            />
            <TextField
              id={FIELD.revocationThreshold}
              label="Revocation threshold"
              value={form.revocationThreshold}
              inputMode="numeric"
              problem={problems.get(FIELD.revocationThreshold)}
              onChange={(v) => update('revocationThreshold', v)}
              hint={`Admin signatures needed to remove an admin or lower a threshold. From 1 to ${adminCount}: more would lock the units out.`}
            />
          </div>
          {signatureThresholdIsOne(form) && (
            <TextField
              id={FIELD.reasonSignatureThresholdOne}
              label="Why one admin’s signature is enough"
              value={form.reasonSignatureThresholdOne}
              problem={problems.get(FIELD.reasonSignatureThresholdOne)}
              onChange={(v) => update('reasonSignatureThresholdOne', v)}
              hint="With a signature threshold of 1, one admin alone can sign for the units. If that is intended, say why: the reason is written into the ceremony record."
            />
          )}
        </fieldset>

        <PeopleFieldset
          role="admin"
          legend={`Admins (${form.admins.length})`}
          explanation="Each admin gets a signing identity on a smart card or in a passphrase-protected file."
          rows={form.admins}
          min={MIN_ADMINS}
          max={Infinity}
          problems={problems}
          onChange={(rows) => update('admins', rows)}
          onFocus={setFocusAfterRender}
        />
        <PeopleFieldset
          role="custodian"
          legend={`Custodians (N = ${n})`}
          explanation="Each custodian receives one share of the master key, on a smart card or in a passphrase-protected file."
          rows={form.custodians}
          min={MIN_CUSTODIANS}
          max={MAX_CUSTODIANS}
          problems={problems}
          onChange={(rows) => update('custodians', rows)}
          onFocus={setFocusAfterRender}
        />
        {custodianAdmins.length > 0 && (
          <fieldset className="group">
            <legend>A custodian who is also an admin</legend>
            <TextField
              id={FIELD.reasonCustodianIsAdmin}
              label="Why a custodian is also an admin"
              value={form.reasonCustodianIsAdmin}
              problem={problems.get(FIELD.reasonCustodianIsAdmin)}
              onChange={(v) => update('reasonCustodianIsAdmin', v)}
              hint={`${quoted(custodianAdmins)} would hold both a share of the key and an admin identity. Separation of duties keeps these with different people; if it must be so, say why: the reason is written into the ceremony record.`}
            />
          </fieldset>
        )}
        <WitnessFieldset
          rows={form.witnesses}
          problems={problems}
          addProblem={problems.get(FIELD.addWitness)}
          onChange={(rows) => update('witnesses', rows)}
          onFocus={setFocusAfterRender}
        />
        <UnitFieldset
          rows={form.units}
          problems={problems}
          addProblem={problems.get(FIELD.addUnit)}
          onChange={(rows) => update('units', rows)}
          onFocus={setFocusAfterRender}
        />

        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy !== null || planCall.busy !== null}>
            Start the ceremony
          </button>
        </div>
        {problems.size > 0 && (
          <p className="field-error form-summary" role="alert">
            {problems.size === 1
              ? 'One entry needs fixing; it is marked above.'
              : `${problems.size} entries need fixing; they are marked above.`}
          </p>
        )}
        <BusyStatus busy={busy} />
        <ErrorNotice error={error} />
      </form>
    </StepFrame>
  );
}

function TextField({
  id,
  label,
  value,
  problem,
  hint,
  inputMode,
  className,
  onChange,
}: {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly problem: string | undefined;
  readonly hint?: string;
  readonly inputMode?: 'numeric';
  /** Extra class on the field (roster rows lay their name out beside the medium). */
  readonly className?: string;
  readonly onChange: (value: string) => void;
}) {
  const describedBy = [hint !== undefined ? `${id}-hint` : '', problem !== undefined ? `${id}-error` : '']
    .filter((x) => x !== '')
    .join(' ');
  return (
    <div className={className === undefined ? 'field' : `field ${className}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className={`input${inputMode === 'numeric' ? ' input-number' : ''}`}
        type="text"
        inputMode={inputMode}
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={problem !== undefined}
        aria-describedby={describedBy === '' ? undefined : describedBy}
      />
      {hint !== undefined && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {problem !== undefined && (
        <p id={`${id}-error`} className="field-error">
          {problem}
        </p>
      )}
    </div>
  );
}

function Roster({
  legend,
  explanation,
  children,
  addLabel,
  canAdd,
  onAdd,
}: {
  readonly legend: string;
  readonly explanation: string;
  readonly children: ReactNode;
  readonly addLabel: string;
  readonly canAdd: boolean;
  readonly onAdd: () => void;
}) {
  return (
    <fieldset className="group">
      <legend>{legend}</legend>
      <p className="field-hint">{explanation}</p>
      <ol className="roster">{children}</ol>
      <button type="button" className="button button-secondary" onClick={onAdd} disabled={!canAdd}>
        {addLabel}
      </button>
    </fieldset>
  );
}

function PeopleFieldset({
  role,
  legend,
  explanation,
  rows,
  min,
  max,
  problems,
  onChange,
  onFocus,
}: {
  readonly role: 'admin' | 'custodian';
  readonly legend: string;
  readonly explanation: string;
  readonly rows: readonly PersonRow[];
  readonly min: number;
  readonly max: number;
  readonly problems: Problems;
  readonly onChange: (rows: readonly PersonRow[]) => void;
  readonly onFocus: (id: string) => void;
}) {
  const word = ROLE_WORD[role];
  function change(key: number, patch: Partial<PersonRow>): void {
    onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  }
  function add(): void {
    const row = newPerson();
    onChange([...rows, row]);
    onFocus(rowNameId(role, row.key));
  }
  function remove(index: number): void {
    const next = rows.filter((_, i) => i !== index);
    onChange(next);
    // Keep focus in the list: on the row that took this one's place, or the last.
    const neighbour = next[Math.min(index, next.length - 1)];
    if (neighbour !== undefined) onFocus(rowNameId(role, neighbour.key));
  }
  return (
    <Roster legend={legend} explanation={explanation} addLabel={`Add ${role}`} canAdd={rows.length < max} onAdd={add}>
      {rows.map((row, i) => {
        const nameId = rowNameId(role, row.key);
        const mediumId = rowMediumId(role, row.key);
        return (
          <PersonRosterRow
            key={row.key}
            nameField={
              <TextField
                className="roster-name"
                id={nameId}
                label={`${word} ${i + 1} name`}
                value={row.name}
                problem={problems.get(nameId)}
                onChange={(name) => change(row.key, { name })}
              />
            }
            mediumId={mediumId}
            mediumLabel={`${word} ${i + 1} medium`}
            medium={row.medium}
            onMedium={(medium) => change(row.key, { medium })}
            removeWhat={`${role} ${i + 1}`}
            canRemove={rows.length > min}
            onRemove={() => remove(i)}
          />
        );
      })}
    </Roster>
  );
}

function WitnessFieldset({
  rows,
  problems,
  addProblem,
  onChange,
  onFocus,
}: {
  readonly rows: readonly WitnessRow[];
  readonly problems: Problems;
  /** Why a witness must be added (none holds no share and no identity). */
  readonly addProblem: string | undefined;
  readonly onChange: (rows: readonly WitnessRow[]) => void;
  readonly onFocus: (id: string) => void;
}) {
  function add(): void {
    const row = newWitness();
    onChange([...rows, row]);
    onFocus(rowNameId('witness', row.key));
  }
  function remove(index: number): void {
    const next = rows.filter((_, i) => i !== index);
    onChange(next);
    const neighbour = next[Math.min(index, next.length - 1)];
    onFocus(neighbour !== undefined ? rowNameId('witness', neighbour.key) : FIELD.addWitness);
  }
  return (
    <fieldset className="group">
      <legend>{`Witnesses (${rows.length})`}</legend>
      <p className="field-hint">
        Witnesses watch the ceremony and sign the printed record. A production ceremony needs at least one witness who
        holds no share and no admin identity.
      </p>
      {rows.length > 0 && (
        <ol className="roster">
          {rows.map((row, i) => {
            const nameId = rowNameId('witness', row.key);
            return (
              <li key={row.key} className="roster-row roster-row-witness">
                <TextField
                  className="roster-name"
                  id={nameId}
                  label={`Witness ${i + 1} name`}
                  value={row.name}
                  problem={problems.get(nameId)}
                  onChange={(name) => onChange(rows.map((r) => (r.key === row.key ? { ...r, name } : r)))}
                />
                <button type="button" className="button button-quiet roster-remove" onClick={() => remove(i)}>
                  Remove<span className="visually-hidden">{` witness ${i + 1}`}</span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
      <button
        id={FIELD.addWitness}
        type="button"
        className="button button-secondary"
        onClick={add}
        aria-describedby={addProblem === undefined ? undefined : `${FIELD.addWitness}-error`}
      >
        Add witness
      </button>
      {addProblem !== undefined && (
        <p id={`${FIELD.addWitness}-error`} className="field-error">
          {addProblem}
        </p>
      )}
    </fieldset>
  );
}

/** The crypto units the plan names: for the plan and its script only. */
function UnitFieldset({
  rows,
  problems,
  addProblem,
  onChange,
  onFocus,
}: {
  readonly rows: readonly UnitRow[];
  readonly problems: Problems;
  /** Why a unit must be added (a plan names at least one). */
  readonly addProblem: string | undefined;
  readonly onChange: (rows: readonly UnitRow[]) => void;
  readonly onFocus: (id: string) => void;
}) {
  function change(key: number, patch: Partial<UnitRow>): void {
    onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  }
  function add(): void {
    const row = newUnit();
    onChange([...rows, row]);
    onFocus(rowNameId('unit', row.key));
  }
  function remove(index: number): void {
    const next = rows.filter((_, i) => i !== index);
    onChange(next);
    const neighbour = next[Math.min(index, next.length - 1)];
    onFocus(neighbour !== undefined ? rowNameId('unit', neighbour.key) : FIELD.addUnit);
  }
  return (
    <fieldset className="group">
      <legend>{`Crypto units, for the plan (${rows.length})`}</legend>
      <p className="field-hint">
        The units the bundle goes to, as the plan and its printed script name them, with each transport key’s
        fingerprint when it is known before the day. Needed to save or print the plan, not to start: the “Target units”
        step still loads each unit’s transport file and confirms its fingerprint on the unit’s display.
      </p>
      {rows.length > 0 && (
        <ol className="roster">
          {rows.map((row, i) => {
            const idId = rowNameId('unit', row.key);
            const fpId = rowFingerprintId(row.key);
            return (
              <li key={row.key} className="roster-row">
                <TextField
                  className="roster-name"
                  id={idId}
                  label={`Unit ${i + 1} id`}
                  value={row.id}
                  problem={problems.get(idId)}
                  onChange={(id) => change(row.key, { id })}
                />
                <TextField
                  className="roster-name"
                  id={fpId}
                  label={`Unit ${i + 1} transport key fingerprint (optional)`}
                  value={row.fingerprint}
                  problem={problems.get(fpId)}
                  onChange={(fingerprint) => change(row.key, { fingerprint })}
                />
                <button type="button" className="button button-quiet roster-remove" onClick={() => remove(i)}>
                  Remove<span className="visually-hidden">{` unit ${i + 1}`}</span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
      <button
        id={FIELD.addUnit}
        type="button"
        className="button button-secondary"
        onClick={add}
        aria-describedby={addProblem === undefined ? undefined : `${FIELD.addUnit}-error`}
      >
        Add unit
      </button>
      {addProblem !== undefined && (
        <p id={`${FIELD.addUnit}-error`} className="field-error">
          {addProblem}
        </p>
      )}
    </fieldset>
  );
}
