// Step 7, Close: wipe the master key from memory, then save the ceremony
// record (JSON Lines, printable HTML and PDF) to a folder and print the
// report for signing.
import { useState } from 'react';
import { api } from '../lib/bridge.js';
import { useCall } from '../lib/useCall.js';
import { ScreenHeading } from '../ui/Heading.js';
import { BusyStatus, ErrorNotice, SuccessNotice } from '../ui/Notices.js';
import { RehearsalUnitsTable } from '../ui/RehearsalUnits.js';
import { StepAction } from './StepAction.js';
import { StepFrame } from './StepFrame.js';
import { useCeremony } from './context.js';

export function CloseStep() {
  const { view } = useCeremony();
  const closed = view.closed;
  const wiped = view.masterKey !== null && !view.masterKey.present;

  return (
    <StepFrame title="Close the ceremony">
      {view.rehearsalUnits !== null && <RehearsalUnitsLoad />}
      {closed === null ? (
        <>
          <p className="lead">
            The bundle is saved and every share is with its custodian. Closing wipes the master key and the shares from
            this computer’s memory. After that, only {view.setup?.threshold ?? 'K'} custodians together can rebuild the
            key.
          </p>
          <StepAction
            label="Wipe the master key and close"
            busyText="Wiping the master key…"
            invoke={() => api().ceremony.close()}
          />
        </>
      ) : (
        <>
          <ScreenHeading level={3}>The ceremony is closed</ScreenHeading>
          {wiped ? (
            <SuccessNotice title="The master key is wiped from this computer’s memory.">
              <p>
                Its KCV was <span className="mono">{view.masterKey?.kcv}</span>.
              </p>
            </SuccessNotice>
          ) : (
            <div className="notice notice-warning" role="alert">
              <p className="notice-title">The master key is still reported as present.</p>
              <p>Do not leave the workstation. Abandon the ceremony to wipe it.</p>
            </div>
          )}
          {closed.recordSavedTo === null ? (
            <>
              <p>
                Save the ceremony record now: its log, a printable report and a PDF, into a folder on removable media.
                Print the report; everyone who took part signs it.
              </p>
              <StepAction
                label="Save the ceremony record…"
                busyText="Saving the ceremony record…"
                invoke={() => api().ceremony.saveRecord()}
              />
            </>
          ) : (
            <>
              <ScreenHeading level={3}>The ceremony record is saved</ScreenHeading>
              <SuccessNotice title="Record, printable report and PDF written">
                <p>
                  In <strong className="path">{closed.recordSavedTo}</strong>: the log, the printable report (HTML) and
                  its PDF.
                </p>
              </SuccessNotice>
              <p>
                Print the report and have everyone who took part sign it: operator, admins, custodians and witnesses.
                The ceremony is complete.
              </p>
              <PrintRecord />
              <StartOver />
            </>
          )}
        </>
      )}
    </StepFrame>
  );
}

/**
 * Back to the start screen. On a closed ceremony, abandon only resets the
 * app (the record already says the ceremony completed).
 */
function StartOver() {
  return (
    <StepAction
      label="Start over"
      busyText="Returning to the start screen…"
      invoke={() => api().ceremony.abandon()}
      kind="secondary"
    />
  );
}

/** Sends the report, with its signature lines, to the system print dialog. */
function PrintRecord() {
  const print = useCall();
  const [printed, setPrinted] = useState(false);
  return (
    <>
      <div className="actions">
        <button
          type="button"
          className="button button-primary"
          disabled={print.busy !== null}
          onClick={() =>
            void print
              .run('Sending the report to the printer…', () => api().ceremony.printRecord())
              .then((r) => {
                if (r?.ok === true && r.value.printed) setPrinted(true);
              })
          }
        >
          Print the report…
        </button>
      </div>
      <BusyStatus busy={print.busy} />
      <ErrorNotice error={print.error} />
      {printed && <SuccessNotice title="The report was sent to the printer." />}
    </>
  );
}

/**
 * A rehearsal's last act (issue 11): the signed bundle goes into the
 * in-process rehearsal units, as it would be carried to real ones, and the
 * units' state and KCV are shown next to the KCV the ceremony showed.
 */
function RehearsalUnitsLoad() {
  const { view } = useCeremony();
  const loaded = view.rehearsalUnits?.loaded ?? null;
  return (
    <section className="rehearsal-units" aria-labelledby="rehearsal-units-heading">
      <ScreenHeading level={3} id="rehearsal-units-heading" focus={false}>
        The rehearsal units
      </ScreenHeading>
      {loaded === null ? (
        <>
          <p>Load the signed bundle into the rehearsal units to see them take the rehearsal key.</p>
          <StepAction
            label="Load into the rehearsal units"
            busyText="Loading the bundle into the rehearsal units…"
            invoke={() => api().rehearsal.loadBundle()}
            kind="secondary"
          />
        </>
      ) : (
        <RehearsalUnitsTable loaded={loaded} />
      )}
    </section>
  );
}
