// The target units of a bundle, as the operator confirms them: each unit's
// transport file loaded, its fingerprint (hex groups and PGP words)
// compared with the unit's own display, every unit of the instance present.
import type { UnitView } from '../../shared/ipc.js';
import { FingerprintWords, HexGroups } from './Fingerprint.js';

export function UnitsToConfirm({
  units,
  unitsMissing,
  busy,
  testIdPrefix,
  onLoad,
  onConfirm,
  onContinue,
  continueLabel,
}: {
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  readonly busy: boolean;
  readonly testIdPrefix: string;
  readonly onLoad: () => void;
  readonly onConfirm: (unitId: string) => void;
  readonly onContinue: () => void;
  readonly continueLabel: string;
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
      <div className="actions">
        <button
          type="button"
          className={`button ${ready ? 'button-secondary' : 'button-primary'}`}
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
