// One row of a roster of people who each keep something on a medium — the
// Set up's admins and custodians, the re-share's new custodians: the
// person's name field (the screen's own, with its checks), where they keep
// it (smart card or file), and the button that removes the row. One markup
// for every such list, so the rows read and behave alike everywhere.
import type { ReactNode } from 'react';
import type { Medium } from '../../shared/ipc.js';

export function PersonRosterRow({
  nameField,
  mediumId,
  mediumLabel,
  medium,
  onMedium,
  removeWhat,
  canRemove,
  onRemove,
}: {
  /** The name's labelled field (a `.field.roster-name`). */
  readonly nameField: ReactNode;
  readonly mediumId: string;
  /** "Custodian 2 medium": names the row, since a roster has many. */
  readonly mediumLabel: string;
  readonly medium: Medium;
  readonly onMedium: (medium: Medium) => void;
  /** Completes "Remove" for a screen reader: "custodian 2". */
  readonly removeWhat: string;
  readonly canRemove: boolean;
  readonly onRemove: () => void;
}) {
  return (
    <li className="roster-row">
      {nameField}
      <div className="field roster-medium">
        <label htmlFor={mediumId}>{mediumLabel}</label>
        <select
          id={mediumId}
          className="input"
          value={medium}
          onChange={(event) => onMedium(event.target.value === 'file' ? 'file' : 'card')}
        >
          <option value="card">Smart card</option>
          <option value="file">File</option>
        </select>
      </div>
      <button type="button" className="button button-quiet roster-remove" onClick={onRemove} disabled={!canRemove}>
        Remove<span className="visually-hidden">{` ${removeWhat}`}</span>
      </button>
    </li>
  );
}
