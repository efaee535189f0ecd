// The target units of a bundle, as the operator confirms them: each unit's
// transport file loaded, its fingerprint (hex groups and PGP words)
// compared with the unit's own display, every unit of the instance present.
// In a rehearsal (issue 11) the rehearsal units can stand in for the files.
// Each button is a step of the wizard's StepScope: the wizard gives the calls.
import type { IpcResult, RehearsalUnitsView, UnitView } from '../../shared/ipc.js';
import { FingerprintWords, HexGroups } from './Fingerprint.js';
import { RehearsalUnitDisplay } from './RehearsalUnits.js';
import { StepButton } from './StepAction.js';

export function UnitsToConfirm<V>({
  units,
  unitsMissing,
  testIdPrefix,
  load,
  confirm,
  finish,
  rehearsal,
}: {
  readonly units: readonly UnitView[];
  readonly unitsMissing: readonly string[];
  readonly testIdPrefix: string;
  /** Reads one more unit's transport file. */
  readonly load: () => Promise<IpcResult<V>>;
  /** Records that a unit's fingerprint matches its display. */
  readonly confirm: { readonly busyText: string; readonly invoke: (unitId: string) => Promise<IpcResult<V>> };
  /** Moves on once every unit of the instance is confirmed. */
  readonly finish: { readonly label: string; readonly busyText: string; readonly invoke: () => Promise<IpcResult<V>> };
  /** A rehearsal record only: "Use the rehearsal units", and what each of them displays once in use. */
  readonly rehearsal?: {
    readonly units: RehearsalUnitsView | null;
    readonly busyText: string;
    readonly use: () => Promise<IpcResult<V>>;
  };
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
              <StepButton
                label={`Unit ${u.unitId}: matches the unit’s display`}
                busyText={confirm.busyText}
                invoke={() => confirm.invoke(u.unitId)}
                kind="secondary"
              />
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
          <StepButton
            label="Use the rehearsal units"
            busyText={rehearsal.busyText}
            invoke={rehearsal.use}
            disabled={units.length > 0}
          />
        )}
        <StepButton
          label="Load a unit’s transport file…"
          busyText="Reading the transport file…"
          invoke={load}
          kind={ready || rehearsal ? 'secondary' : 'primary'}
        />
        <StepButton label={finish.label} busyText={finish.busyText} invoke={finish.invoke} disabled={!ready} />
      </div>
    </>
  );
}
