// The start screen: the two things Key Ceremony does, and the records of
// ceremonies a crash cut off, if any.
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
}: {
  readonly notice: string | null;
  readonly onStartCeremony: () => void;
  readonly onRehearseCeremony: () => void;
  readonly onCheckShare: () => void;
  readonly onReshare: () => void;
  readonly onCheckRecord: () => void;
  readonly onRecover: () => void;
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
        <li className="choice">
          <button
            type="button"
            className="button button-primary button-large"
            aria-describedby="choice-new-description"
            onClick={onStartCeremony}
          >
            Start a new ceremony
          </button>
          <p id="choice-new-description">
            Set up the roster, confirm the crypto units’ transport keys, create the admin identities, generate and split
            a new master key, and sign the import bundle.
          </p>
        </li>
        <li className="choice">
          <button
            type="button"
            className="button button-secondary button-large"
            aria-describedby="choice-rehearse-description"
            onClick={onRehearseCeremony}
          >
            Rehearse a ceremony
          </button>
          <p id="choice-rehearse-description">
            The same ceremony as a rehearsal: factory-fresh virtual cards in rehearsal card readers and in-process
            rehearsal units, so no real key, card or unit is used. Everything it saves is marked REHEARSAL.
          </p>
        </li>
        <li className="choice">
          <button
            type="button"
            className="button button-secondary button-large"
            aria-describedby="choice-check-description"
            onClick={onCheckShare}
          >
            Check a share against a ceremony record
          </button>
          <p id="choice-check-description">
            A custodian proves that their share, on a card or in a file, still opens and is the one the ceremony record
            says was issued. Nothing is changed.
          </p>
        </li>
        <li className="choice">
          <button
            type="button"
            className="button button-secondary button-large"
            aria-describedby="choice-reshare-description"
            onClick={onReshare}
          >
            Re-share a key (replace a lost card or a departed custodian)
          </button>
          <p id="choice-reshare-description">
            Bring K shares of a key’s current set, give the same key a new set of shares (K′ of N′, cards or files) to
            new or remaining custodians, and retire the old set in the key’s record.
          </p>
        </li>
        <li className="choice">
          <button
            type="button"
            className="button button-secondary button-large"
            aria-describedby="choice-check-record-description"
            onClick={onCheckRecord}
          >
            Check a ceremony record
          </button>
          <p id="choice-check-record-description">
            Verify a key’s record as the command line does, compare its head hash with the signed paper report, and see
            every ceremony of the key’s life, its shares and bundles. Nothing is changed.
          </p>
        </li>
        <li className="choice">
          <button
            type="button"
            className="button button-secondary button-large"
            aria-describedby="choice-recover-description"
            onClick={onRecover}
          >
            Recover a key onto new units
          </button>
          <p id="choice-recover-description">
            Rebuild a key from its record and any K current shares, and build the signed recover bundle that loads it
            onto new or cleared crypto units.
          </p>
        </li>
      </ul>
    </main>
  );
}
