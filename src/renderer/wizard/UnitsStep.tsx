// Step 2, Target units: load each crypto unit's transport key file and
// confirm, unit by unit, that its fingerprint matches the unit's own display.
// Main adds units unconfirmed; only the operator's explicit check confirms.
import { useRef, useState } from 'react';
import type { CeremonyView, UnitView } from '../../shared/ipc.js';
import { api } from '../lib/bridge.js';
import { plural } from '../lib/format.js';
import { FingerprintWords, HexGroups } from '../ui/Fingerprint.js';
import { BusyStatus, ErrorNotice } from '../ui/Notices.js';
import { RehearsalUnitDisplay } from '../ui/RehearsalUnits.js';
import { StepButton, StepScope, StepStatus } from '../ui/StepAction.js';
import { StepFrame } from './StepFrame.js';
import { isStepDone, useCeremony, useCeremonyAction } from './context.js';

export function UnitsStep() {
  const { view, goTo } = useCeremony();
  const load = useCeremonyAction();
  const continueRef = useRef<HTMLButtonElement | null>(null);
  const units = view.units;
  const unconfirmed = units.filter((u) => !u.confirmed).length;
  const done = isStepDone(view, 'units');

  function focusAfterConfirm(unitId: string): void {
    // Move on to the next unit still to check, or to Continue.
    const next = units.find((u) => !u.confirmed && u.unitId !== unitId);
    window.setTimeout(() => {
      if (next !== undefined) document.getElementById(confirmId(next.unitId))?.focus();
      else continueRef.current?.focus();
    }, 0);
  }

  return (
    <StepFrame title="Target units">
      <p className="lead">
        Load the transport key file that each crypto unit exported. Then read the fingerprint on the unit’s own display
        and compare it here, group by group, before confirming it. Load a unit again after a mistake by removing it
        first.
      </p>

      {view.mode === 'rehearsal' && (
        <div className="notice notice-info">
          <p>
            A rehearsal targets rehearsal units only: a production unit’s transport file is refused. “Use rehearsal
            units” creates an instance of in-process units in rehearsal mode and loads their transport files.
          </p>
        </div>
      )}

      <StepScope busy={load.busy} error={load.error} step={load.act}>
        <div className="actions">
          {view.mode === 'rehearsal' && (
            <StepButton
              label="Use rehearsal units"
              busyText="Creating the rehearsal units…"
              invoke={() => api().units.useRehearsal()}
              disabled={view.rehearsalUnits !== null || units.length > 0}
            />
          )}
          <StepButton
            label="Load transport file…"
            busyText="Opening the transport file…"
            invoke={() => api().units.addTransport()}
            kind={units.length === 0 && view.mode !== 'rehearsal' ? 'primary' : 'secondary'}
          />
        </div>
        <StepStatus />
      </StepScope>

      {units.length === 0 ? (
        <p className="empty-state">No unit is loaded yet.</p>
      ) : (
        <ul className="unit-list">
          {units.map((unit) => (
            <UnitCard
              key={unit.unitId}
              unit={unit}
              display={view.rehearsalUnits?.displays.find((d) => d.unitId === unit.unitId) ?? null}
              onConfirmed={() => focusAfterConfirm(unit.unitId)}
            />
          ))}
        </ul>
      )}

      <div className="step-footer">
        <p className="step-footer-status" id="units-status">
          {units.length === 0
            ? view.unitsMissing.length > 0
              ? `The plan this ceremony was set up from names ${plural(view.unitsMissing.length, 'unit', 'units')}: load the transport file of ${view.unitsMissing.join(', ')} to continue.`
              : 'Load the transport file of every unit of the instance to continue.'
            : view.unitsMissing.length > 0
              ? `The instance has ${plural(units.length + view.unitsMissing.length, 'unit', 'units')}, and the bundle goes to all of them: load the transport file of ${view.unitsMissing.join(', ')} too.`
              : unconfirmed > 0
                ? `${plural(unconfirmed, 'unit', 'units')} still to confirm.`
                : `All ${plural(units.length, 'unit', 'units')} confirmed.`}
        </p>
        <button
          ref={continueRef}
          type="button"
          className="button button-primary"
          disabled={!done}
          aria-describedby="units-status"
          onClick={() => goTo('admins')}
        >
          Continue
        </button>
      </div>
    </StepFrame>
  );
}

const confirmId = (unitId: string): string => `unit-confirm-${unitId.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/** What a rehearsal unit "displays": the fingerprint the in-process emulator reports for it (issue 11). */
type RehearsalDisplay = NonNullable<CeremonyView['rehearsalUnits']>['displays'][number];

function UnitCard({
  unit,
  display,
  onConfirmed,
}: {
  readonly unit: UnitView;
  readonly display: RehearsalDisplay | null;
  readonly onConfirmed: () => void;
}) {
  const confirm = useCeremonyAction();
  const remove = useCeremonyAction();
  const busy = confirm.busy !== null || remove.busy !== null;
  const id = confirmId(unit.unitId);
  // Ticked at once while main records the confirmation; unticked again if it fails.
  const [ticking, setTicking] = useState(false);

  return (
    <li className={`unit-card${unit.confirmed ? ' unit-confirmed' : ''}`}>
      <div className="unit-head">
        <h3 className="unit-title">Unit {unit.unitId}</h3>
        <span className={`badge ${unit.confirmed ? 'badge-done' : 'badge-todo'}`}>
          {unit.confirmed ? 'Confirmed' : 'Not confirmed yet'}
        </span>
      </div>
      <p className="muted">From the file {unit.fileName}</p>
      <h4 className="label-heading">Transport key fingerprint (SHA-256)</h4>
      <HexGroups groups={unit.fingerprintGroups} />
      <h4 className="label-heading">The same, as words to read aloud</h4>
      <FingerprintWords words={unit.fingerprintWords} />
      {display !== null && <RehearsalUnitDisplay display={display} />}

      <div className="unit-actions">
        <div className="checkbox-field">
          <input
            type="checkbox"
            id={id}
            checked={unit.confirmed || ticking}
            // There is no "unconfirm": remove the unit and load it again instead.
            disabled={unit.confirmed || busy}
            onChange={(event) => {
              if (!event.target.checked || busy) return;
              setTicking(true);
              void confirm
                .act(`Confirming ${unit.unitId}…`, () => api().units.confirm({ unitId: unit.unitId }))
                .then((ok) => {
                  setTicking(false);
                  if (ok) onConfirmed();
                });
            }}
          />
          <label htmlFor={id}>{`The fingerprint of ${unit.unitId} matches the unit's display`}</label>
        </div>
        <button
          type="button"
          className="button button-quiet"
          disabled={busy}
          onClick={() => void remove.act(`Removing ${unit.unitId}…`, () => api().units.remove({ unitId: unit.unitId }))}
        >
          Remove<span className="visually-hidden"> unit {unit.unitId}</span>
        </button>
      </div>
      <BusyStatus busy={confirm.busy ?? remove.busy} />
      <ErrorNotice error={confirm.error ?? remove.error} />
    </li>
  );
}
