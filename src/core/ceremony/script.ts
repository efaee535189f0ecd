import {
  cell,
  paragraph,
  plain,
  type Block,
  type Cell,
  type Inline,
  type PrintedDocument,
  type Section,
} from '../document/model.js';
import { missingCase } from '../errors.js';
import { CEREMONY_KIND, type StepActor } from './kinds.js';
import { digestInline, REASON_TITLE } from './report.js';
import { holdersComeIn, type CeremonySetupFile, type SetupCustodian, type SetupReason } from './setup-file.js';

// The ceremony script (issue 11): printed from the setup before the
// ceremony, so the room follows one plan and each step is initialled and
// timed on paper as it is done. Its steps are the kind's steps (kinds.ts),
// the same list the engine is to follow.

function names(list: readonly { name: string }[]): string {
  return list.map((p) => p.name).join(', ');
}

/** Where a recovery from the paper report names its custodians (holdersComeIn): nobody knows them before. */
const NAMED_AS_SHARES_COME_IN = 'named as their shares come in';

function actorLine(actor: StepActor, s: CeremonySetupFile): string {
  switch (actor) {
    case 'operator':
      return `Operator: ${s.operator}`;
    case 'custodians':
      return `Custodians: ${names(s.custodians)}`;
    case 'holders':
      return `Custodians bringing shares: ${holdersComeIn(s) ? NAMED_AS_SHARES_COME_IN : names(s.holders)}`;
    case 'admins':
      return `Admins: ${names(s.admins)}`;
    case 'witnesses':
      return s.witnesses.length > 0 ? `Witnesses: ${names(s.witnesses)}` : 'Witnesses';
    case 'everyone':
      return 'Everyone present';
    default:
      return missingCase(actor);
  }
}

function sharesLine(s: CeremonySetupFile): string | undefined {
  const def = CEREMONY_KIND[s.kind];
  if (def.issuesShares)
    return `${s.threshold} of ${s.custodians.length} new shares (any ${s.threshold} rebuild the key)`;
  if (s.kind === 'recovery')
    return holdersComeIn(s)
      ? `Any K of the key's shares (K as the shares themselves say: the record is lost); the custodians are ${NAMED_AS_SHARES_COME_IN}`
      : `Any ${s.threshold} of the key's shares; ${s.holders.length} custodians bring theirs`;
  if (s.holders.length > 0) return `${s.holders.length} custodians bring their shares`;
  return undefined;
}

function personRow(role: string, name: string, c?: SetupCustodian, medium?: string): Cell[] {
  return [
    cell(role),
    cell(name),
    cell(c?.medium ?? medium),
    cell(c?.cardSerial === undefined ? undefined : String(c.cardSerial), 'mono'),
    cell(c?.bag, 'mono'),
  ];
}

function rolesBlock(s: CeremonySetupFile): Block {
  return {
    kind: 'table',
    name: 'roles',
    columns: [
      { title: 'Role', weight: 26 },
      { title: 'Name', weight: 30 },
      { title: 'Medium', weight: 10 },
      { title: 'Card serial', weight: 16 },
      { title: 'Bag', weight: 18 },
    ],
    rows: [
      personRow('Operator', s.operator),
      ...s.admins.map((a) => personRow('Admin', a.name, undefined, a.medium)),
      ...s.holders.map((c) => personRow('Custodian, brings a share', c.name, c)),
      ...(holdersComeIn(s) ? [personRow('Custodians, bring shares', NAMED_AS_SHARES_COME_IN)] : []),
      ...s.custodians.map((c) => personRow('Custodian, receives a share', c.name, c)),
      ...s.witnesses.map((w) => personRow('Witness', w.name)),
    ],
  };
}

function materialRows(s: CeremonySetupFile): Cell[][] {
  const rows: Cell[][] = [];
  const medium = (c: SetupCustodian, what: string): void => {
    if (c.medium === 'card')
      rows.push([
        cell(`Smart card ${what} ${c.name}`),
        cell(
          c.cardSerial === undefined ? 'serial read on the day' : `serial ${c.cardSerial}`,
          c.cardSerial === undefined ? 'plain' : 'mono',
        ),
        cell(c.bag, 'mono'),
      ]);
    else
      rows.push([
        cell(`Share file ${what} ${c.name} (removable medium)`),
        cell('passphrase known only to its custodian'),
        cell(c.bag, 'mono'),
      ]);
  };
  for (const c of s.holders) medium(c, 'holding the share of');
  if (holdersComeIn(s))
    rows.push([
      cell('Smart cards or share files of the custodians bringing shares'),
      cell(NAMED_AS_SHARES_COME_IN),
      cell(undefined),
    ]);
  for (const c of s.custodians) medium(c, 'for the new share of');
  for (const a of s.admins) {
    if (a.medium !== undefined)
      rows.push([
        cell(a.medium === 'card' ? `Smart card of admin ${a.name}` : `Identity file of admin ${a.name}`),
        cell(undefined),
        cell(undefined),
      ]);
  }
  return rows;
}

function unitsBlock(s: CeremonySetupFile): Block {
  return {
    kind: 'table',
    name: 'units',
    columns: [
      { title: 'Unit', weight: 15 },
      { title: 'Transport key fingerprint (SHA-256 of the public key): compare with the unit display', weight: 85 },
    ],
    rows: s.units.map((u) => [
      cell(u.id, 'mono'),
      u.transportFingerprint === undefined
        ? cell('not known before the day: read it from the unit display and confirm it into the record')
        : { content: digestInline(u.transportFingerprint), look: 'plain' },
    ]),
  };
}

function fields(s: CeremonySetupFile, setupSha256: string | undefined): Block {
  const def = CEREMONY_KIND[s.kind];
  const rows: Array<{ label: string; value: Inline }> = [
    { label: 'Ceremony', value: [plain(def.title)] },
    { label: 'What it does', value: [plain(def.purpose)] },
    { label: 'Ceremony name', value: [plain(s.ceremonyName)] },
    { label: 'Key name', value: [plain(s.keyName)] },
    {
      label: 'Mode',
      value:
        s.mode === 'rehearsal'
          ? [{ text: 'REHEARSAL: virtual cards and units only; nothing made here is for production', style: 'alarm' }]
          : [plain('Production')],
    },
  ];
  const shares = sharesLine(s);
  if (shares) rows.push({ label: 'Shares', value: [plain(shares)] });
  if (s.signatureThreshold !== undefined)
    rows.push({
      label: 'Admin thresholds',
      value: [plain(`${s.signatureThreshold} signatures for any command; ${s.revocationThreshold} to remove an admin`)],
    });
  if (setupSha256 !== undefined) rows.push({ label: 'Setup file SHA-256', value: digestInline(setupSha256) });
  rows.push({ label: 'Date and place', value: [] }, { label: 'Started at / ended at', value: [] });
  return { kind: 'fields', name: 'summary', rows };
}

function people(s: CeremonySetupFile): Array<{ role: string; name: string }> {
  return [
    { role: 'Operator', name: s.operator },
    ...s.admins.map((a) => ({ role: 'Administrator', name: a.name })),
    ...s.holders.map((c) => ({ role: 'Custodian', name: c.name })),
    ...s.custodians
      .filter((c) => !s.holders.some((h) => h.name.toLocaleLowerCase() === c.name.toLocaleLowerCase()))
      .map((c) => ({ role: 'Custodian', name: c.name })),
    ...s.witnesses.map((w) => ({ role: 'Witness', name: w.name })),
  ];
}

/**
 * The printable ceremony script of a setup: roles, materials, units and
 * their fingerprints, every step with a box to initial and a time, and the
 * sign-off of everyone named. `setupSha256` (hex) is the hash of the
 * SETUP.json file it was printed from, so the room can check it is the plan
 * that was signed off.
 */
export function ceremonyScriptDocument(
  setup: CeremonySetupFile,
  preparedAt: Date,
  setupSha256?: string,
): PrintedDocument {
  const def = CEREMONY_KIND[setup.kind];
  const rehearsal = setup.mode === 'rehearsal' ? 'REHEARSAL — ' : '';
  const materials = materialRows(setup);
  const reasons = (Object.keys(REASON_TITLE) as SetupReason[]).filter((r) => setup.reasons[r] !== undefined);
  const sections: Section[] = [
    { heading: 'Ceremony', blocks: [fields(setup, setupSha256)] },
    { heading: 'Roles', blocks: [rolesBlock(setup)] },
  ];
  if (reasons.length > 0)
    sections.push({
      heading: 'Separation of duties: reasons recorded',
      blocks: [
        {
          kind: 'table',
          name: 'reasons',
          columns: [
            { title: 'Departure', weight: 35 },
            { title: 'Reason given in the setup', weight: 65 },
          ],
          rows: reasons.map((r) => [cell(REASON_TITLE[r]), cell(setup.reasons[r])]),
        },
      ],
    });
  sections.push({
    heading: 'Materials',
    blocks: [
      materials.length > 0
        ? {
            kind: 'table',
            name: 'materials',
            columns: [
              { title: 'Item', weight: 50 },
              { title: 'Identification', weight: 30 },
              { title: 'Tamper-evident bag', weight: 20 },
            ],
            rows: materials,
          }
        : paragraph('No card or share file takes part.', 'none'),
      paragraph(
        'Also at the table: the air-gapped computer with Key Ceremony, removable media for the record and the bundles, a printer, and sealed tamper-evident bags.',
      ),
    ],
  });
  if (setup.units.length > 0)
    sections.push({ heading: 'Units and transport key fingerprints', blocks: [unitsBlock(setup)] });
  sections.push(
    {
      heading: 'Steps',
      blocks: [
        paragraph(
          'Do the steps in order. The person named initials the box when the step is done, and writes the time.',
        ),
        { kind: 'checklist', steps: def.steps.map((st) => ({ title: st.title, actor: actorLine(st.actor, setup) })) },
      ],
    },
    {
      heading: 'Signatures',
      blocks: [
        paragraph(
          'By signing, each person below confirms that the ceremony followed this script, step by step, as initialled above.',
        ),
        ...(holdersComeIn(setup)
          ? [
              paragraph(
                `The custodians who bring shares are ${NAMED_AS_SHARES_COME_IN}: each signs the report printed from the new record at the end, which names them.`,
              ),
            ]
          : []),
        { kind: 'signatures', people: people(setup) },
      ],
    },
  );
  return {
    title: `${rehearsal}Ceremony script — ${def.title}: ${setup.ceremonyName}`,
    // "REHEARSAL on every ... page" (issue 11): the banner tops every printed page.
    ...(setup.mode === 'rehearsal'
      ? { banner: 'REHEARSAL — virtual cards and units only; nothing made here is for production' }
      : {}),
    header: [
      paragraph(
        `Prepared ${preparedAt.toISOString()} from its setup (${setup.format}), before the ceremony.`,
        'generated',
      ),
    ],
    sections,
    footer: [
      paragraph([
        plain(
          'This script is the plan; the ceremony record is what happened. After the ceremony, print the report from the record with ',
        ),
        { text: 'keyceremony transcript report RECORD.jsonl --out REPORT.pdf', style: 'code' },
        plain(' and check that its head hash is the one read aloud at the close.'),
      ]),
    ],
  };
}
