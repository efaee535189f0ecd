// A rehearsal's units (issue 11, "Rehearsal mode") in every wizard: what
// the in-process units answered to the signed bundle, unit by unit (the
// initial ceremony's Close step and the later ceremonies' last steps).
import type { IpcResult, RehearsalUnitsView } from '../../shared/ipc.js';
import { HexGroups } from './Fingerprint.js';
import { StepButton } from './StepAction.js';

/** What a rehearsal unit "displays": the fingerprint the in-process emulator reports for its transport key. */
export function RehearsalUnitDisplay({ display }: { readonly display: RehearsalUnitsView['displays'][number] }) {
  return (
    <div className="rehearsal-display">
      <h4 className="label-heading">The unit’s “display” (rehearsal: reported by the in-process emulator)</h4>
      <p className="muted">
        An in-process unit has no display to read, so this is the fingerprint the rehearsal unit reports for its own
        transport key. Compare it with the file’s above, as you would with a real unit’s display.
      </p>
      <HexGroups groups={display.fingerprintGroups} />
    </div>
  );
}

/** Each rehearsal unit's answer to the bundle, its state, its current key's KCV and its mode. */
export function RehearsalUnitsTable({ loaded }: { readonly loaded: NonNullable<RehearsalUnitsView['loaded']> }) {
  return (
    <table className="share-table">
      <caption>What the rehearsal units report after the bundle</caption>
      <thead>
        <tr>
          <th scope="col">Unit</th>
          <th scope="col">Bundle</th>
          <th scope="col">State</th>
          <th scope="col">KCV</th>
          <th scope="col">Mode</th>
        </tr>
      </thead>
      <tbody>
        {loaded.units.map((u) => {
          const result = loaded.results.find((r) => r.unitId === u.unitId);
          return (
            <tr key={u.unitId}>
              <th scope="row">{u.unitId}</th>
              <td>{result === undefined ? '\u2014' : result.ok ? 'accepted' : `refused: ${result.message}`}</td>
              <td>{u.state}</td>
              <td className="mono">{u.kcv ?? '\u2014'}</td>
              <td>{u.rehearsal ? 'rehearsal' : 'production'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/**
 * A later ceremony's last act in a rehearsal: the saved bundle loaded into
 * the rehearsal units (as it would be carried to real ones), then what they
 * answered.
 */
export function LoadIntoRehearsalUnits<V>({
  units,
  load,
  what,
}: {
  readonly units: RehearsalUnitsView;
  /** The wizard's call that loads its saved bundle into the units (a step of its StepScope). */
  readonly load: () => Promise<IpcResult<V>>;
  /** What loading also does, in a sentence ("The record then retires the old key."). */
  readonly what: string;
}) {
  return (
    <section className="rehearsal-units" aria-labelledby="later-rehearsal-units-heading">
      <h3 id="later-rehearsal-units-heading">The rehearsal units</h3>
      {units.loaded === null ? (
        <>
          <p>{`Load the signed bundle into the rehearsal units (instance ${units.instanceId}), as the operator would carry it to real ones. ${what}`}</p>
          <div className="actions">
            <StepButton
              label="Load into the rehearsal units"
              busyText="Loading the bundle into the rehearsal units…"
              invoke={load}
            />
          </div>
        </>
      ) : (
        <RehearsalUnitsTable loaded={units.loaded} />
      )}
    </section>
  );
}
