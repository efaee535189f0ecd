// The start screen: the tasks Key Ceremony does, and the records of
// ceremonies a crash cut off, if any.
import type { ReactNode } from 'react';
import { ScreenHeading } from '../ui/Heading.js';
import { InterruptedCeremonies } from './InterruptedCeremonies.js';

export function StartScreen({
  notice,
  onStartCeremony,
  onRehearseCeremony,
  onCheckShare,
  onReshare,
  onCheckRecord,
  onRecover,
  onRotate,
  onChangeAdmins,
  onZeroize,
  onUnitsReport,
}: {
  readonly notice: string | null;
  readonly onStartCeremony: () => void;
  readonly onRehearseCeremony: () => void;
  readonly onCheckShare: () => void;
  readonly onReshare: () => void;
  readonly onCheckRecord: () => void;
  readonly onRecover: () => void;
  readonly onRotate: () => void;
  readonly onChangeAdmins: () => void;
  readonly onZeroize: () => void;
  readonly onUnitsReport: () => void;
}) {
  return (
    <main className="app-main start">
      <ScreenHeading level={2}>What would you like to do?</ScreenHeading>
      {notice !== null && (
        <div className="notice notice-info" role="status">
          <p>{notice}</p>
        </div>
      )}
      <InterruptedCeremonies />
      <ul className="choices">
        <Choice id="new" primary onClick={onStartCeremony} label="Start a new ceremony">
          Set up the roster, confirm the crypto units’ transport keys, create the admin identities, generate and split a
          new master key, and sign the import bundle.
        </Choice>
        <Choice id="rehearse" onClick={onRehearseCeremony} label="Rehearse a ceremony">
          The same ceremony as a rehearsal: factory-fresh virtual cards in rehearsal card readers and in-process
          rehearsal units, so no real key, card or unit is used. Everything it saves is marked REHEARSAL.
        </Choice>
        <Choice id="check" onClick={onCheckShare} label="Check a share against a ceremony record">
          A custodian proves that their share, on a card or in a file, still opens and is the one the ceremony record
          says was issued. Nothing is changed.
        </Choice>
        <Choice id="reshare" onClick={onReshare} label="Re-share a key (replace a lost card or a departed custodian)">
          Bring K shares of a key’s current set, give the same key a new set of shares (K′ of N′, cards or files) to new
          or remaining custodians, and retire the old set in the key’s record.
        </Choice>
        <Choice id="check-record" onClick={onCheckRecord} label="Check a ceremony record">
          Verify a key’s record as the command line does, compare its head hash with the signed paper report, and see
          every ceremony of the key’s life, its shares and bundles. Nothing is changed.
        </Choice>
        <Choice id="recover" onClick={onRecover} label="Recover a key onto new units">
          Rebuild a key from its record and any K current shares, and build the signed recover bundle that loads it onto
          new or cleared crypto units.
        </Choice>
        <Choice id="rotate" onClick={onRotate} label="Rotate the master key">
          Generate a new master key with its own record and shares, build the rotate bundle from K of them for the
          units’ admins to sign, and retire the old key in its record once the units report the new key current.
        </Choice>
        <Choice id="admin-change" onClick={onChangeAdmins} label="Change the admins">
          Add or remove the crypto units’ admins and set their signature and revocation thresholds, in a bundle the
          units’ current admins sign. A change that would lock the units out is refused before anyone signs.
        </Choice>
        <Choice id="zeroize" onClick={onZeroize} label="Zeroize the units (decommission)">
          Destroy a key on its units for good: the signed zeroize bundle, then the units’ status recorded, which closes
          the key’s life in its record and refuses its shares from then on.
        </Choice>
        <Choice
          id="units-report"
          onClick={onUnitsReport}
          label="Record what the units report (after a rotation or a zeroize)"
        >
          The units ingested a rotate or zeroize bundle after its wizard was closed: open the key’s record, the
          rotation’s record if any, and the units’ status files, and record the key retired or destroyed.
        </Choice>
      </ul>
    </main>
  );
}

/** One task of the start screen: its button, and a sentence saying what it does. */
function Choice({
  id,
  primary = false,
  onClick,
  label,
  children,
}: {
  readonly id: string;
  readonly primary?: boolean;
  readonly onClick: () => void;
  readonly label: string;
  readonly children: ReactNode;
}) {
  return (
    <li className="choice">
      <button
        type="button"
        className={`button ${primary ? 'button-primary' : 'button-secondary'} button-large`}
        aria-describedby={`choice-${id}-description`}
        onClick={onClick}
      >
        {label}
      </button>
      <p id={`choice-${id}-description`}>{children}</p>
    </li>
  );
}
