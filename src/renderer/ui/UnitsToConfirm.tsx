// The target units of a bundle, as the operator confirms them: each unit's
// transport file loaded, its fingerprint (hex groups and PGP words)
// compared with the unit's own display, every unit of the instance present.
// In a rehearsal (issue 11) the rehearsal units can stand in for the files.
import type { RehearsalUnitsView, UnitView } from '../../shared/ipc.js';
import { FingerprintWords, HexGroups } from './Fingerprint.js';
import { RehearsalUnitDisplay } from './RehearsalUnits.js';

export function UnitsToConfirm({
  units,
  unitsMissing,
  busy,
  testIdPrefix,
  onLoad,
  onConfirm,
  onContinue,
  continueLabel,
  rehearsal,
}: {
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  readonly busy: boolean;
  readonly testIdPrefix: string;
  readonly onLoad: () => void;
  readonly onConfirm: (unitId: string) => void;
  readonly onContinue: () => void;
  readonly continueLabel: string;
  /** A rehearsal record only: "Use the rehearsal units", and what each of them displays once in use. */
  readonly rehearsal?: { readonly units: RehearsalUnitsView | null; readonly onUse: () => void };
}) {
  const ready = units.length > 0 && unitsMissing.length === 0 && units.every((u) => u.confirmed);
  return (
    <>
      <ul className="unit-list">
        {units.map((u) => (
          <li key={u.unitId} className="unit-card">
            <p>
              Unit <span className="mono">{u.unitId}</span> <span className="path">({u.fileName})</span>
            </p>
            <HexGroups groups={u.fingerprintGroups} size="medium" testId={`${testIdPrefix}-unit-${u.unitId}`} />
            <FingerprintWords words={u.fingerprintWords} />
            {rehearsal?.units?.displays
              .filter((d) => d.unitId === u.unitId)
              .map((d) => (
                <RehearsalUnitDisplay key={d.unitId} display={d} />
              ))}
            {u.confirmed ? (
              <p className="notice notice-success">Confirmed: matches the unit’s display.</p>
            ) : (
              <button
                type="button"
                className="button button-secondary"
                disabled={busy}
                onClick={() => onConfirm(u.unitId)}
              >
                {`Unit ${u.unitId}: matches the unit’s display`}
              </button>
            )}
          </li>
        ))}
      </ul>
      {unitsMissing.length > 0 && (
        <p>The bundle goes to every unit of the instance; still to load: {unitsMissing.join(', ')}.</p>
      )}
      {rehearsal && units.length === 0 && (
        <p className="notice notice-info">
          A rehearsal record’s key lives on rehearsal units: “Use the rehearsal units” loads their transport files from
          the in-process units; a production unit would refuse this rehearsal’s bundle.
        </p>
      )}
      <div className="actions">
        {rehearsal && (
          <button
            type="button"
            className="button button-primary"
            disabled={busy || units.length > 0}
            onClick={rehearsal.onUse}
          >
            Use the rehearsal units
          </button>
        )}
        <button
          type="button"
          className={`button ${ready || rehearsal ? 'button-secondary' : 'button-primary'}`}
          disabled={busy}
          onClick={onLoad}
        >
          Load a unit’s transport file…
        </button>
        <button type="button" className="button button-primary" disabled={busy || !ready} onClick={onContinue}>
          {continueLabel}
        </button>
      </div>
    </>
  );
}
