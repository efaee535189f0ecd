// The ceremonies of a master key's life (issue 11): one closed list of
// kinds, each with its title, what its setup must name, and its steps in
// order. This is data, not behaviour: the printed ceremony script
// (script.ts) and the SETUP.json parser (setup-file.ts) read it today; the
// ceremony engine is meant to be driven from the same list, so that what
// the script tells the room and what the tool does cannot drift apart.

export const CEREMONY_KINDS = [
  'initial',
  'recovery',
  'reshare',
  'admin-change',
  'rotation',
  'zeroize',
  'share-check',
] as const;
export type CeremonyKind = (typeof CEREMONY_KINDS)[number];

export function isCeremonyKind(value: unknown): value is CeremonyKind {
  return (CEREMONY_KINDS as readonly unknown[]).includes(value);
}

/** Who acts in a step: the person who initials it on the script. */
export const STEP_ACTORS = ['operator', 'custodians', 'holders', 'admins', 'witnesses', 'everyone'] as const;
export type StepActor = (typeof STEP_ACTORS)[number];

export interface CeremonyStep {
  /** Stable identifier (kebab-case), unique within its kind. */
  readonly id: string;
  readonly title: string;
  readonly actor: StepActor;
}

/** Whether a member of the setup is needed, allowed, or does not belong to a kind. */
export type Need = 'required' | 'optional' | 'none';

export interface CeremonyKindDefinition {
  readonly title: string;
  /** One sentence: what the ceremony does. */
  readonly purpose: string;
  /** Custodians who receive a new share, and K of that new split. */
  readonly issuesShares: boolean;
  /** Custodians who bring a share of the current key (`holders` in SETUP.json). */
  readonly holders: Need;
  /** Admins who take part (sign, or are installed). */
  readonly admins: Need;
  /** Signature and revocation thresholds of the admins the units will hold. */
  readonly adminThresholds: Need;
  /** The crypto units the ceremony's bundle goes to. */
  readonly units: Need;
  readonly steps: readonly CeremonyStep[];
}

const OPENING: readonly CeremonyStep[] = [
  {
    id: 'roll-call',
    title: 'Roll call: every person named on this script is present and shows identification',
    actor: 'everyone',
  },
  {
    id: 'room-check',
    title: 'Room checked: no network cable, radio off, no phone or camera at the table',
    actor: 'witnesses',
  },
  { id: 'bags-opened', title: 'Tamper-evident bags checked against their numbers, then opened', actor: 'witnesses' },
  { id: 'record-opened', title: 'Ceremony opened in the record (operator)', actor: 'operator' },
];

const UNITS_CONFIRMED: CeremonyStep = {
  id: 'units-confirmed',
  title: "Each unit's transport key fingerprint read from the unit's own display and confirmed into the record",
  actor: 'operator',
};

const CLOSING: readonly CeremonyStep[] = [
  {
    id: 'record-closed',
    title: 'Ceremony closed in the record; its head hash read aloud (hex and words)',
    actor: 'operator',
  },
  {
    id: 'bags-sealed',
    title: 'Cards and share files sealed in tamper-evident bags; bag numbers written down',
    actor: 'witnesses',
  },
  {
    id: 'report-signed',
    title: 'Report printed from the record and signed by every participant and witness',
    actor: 'everyone',
  },
];

const step = (id: string, title: string, actor: StepActor): CeremonyStep => ({ id, title, actor });

/** Every kind, exhaustively: a new kind does not compile until it is described here. */
export const CEREMONY_KIND: { readonly [K in CeremonyKind]: CeremonyKindDefinition } = {
  initial: {
    title: 'Initial key ceremony',
    purpose:
      'A new 256-bit master key is generated, split K of N onto the custodians, and loaded into the crypto units, which are claimed by the admins.',
    issuesShares: true,
    holders: 'none',
    admins: 'required',
    adminThresholds: 'required',
    units: 'required',
    steps: [
      ...OPENING,
      UNITS_CONFIRMED,
      step('admin-identities', 'Each admin creates or brings an identity; certificate fingerprints compared', 'admins'),
      step('master-key-generated', 'Master key generated; key check value (KCV) read aloud', 'operator'),
      step('shares-issued', 'Each custodian receives a share, written and read back', 'custodians'),
      step('shares-accepted', 'Each custodian confirms holding their share', 'custodians'),
      step('bundle-created', 'Import bundle (initialize) created for every unit', 'operator'),
      step('bundle-signed', 'Every admin checks what the bundle does and signs it', 'admins'),
      step('master-key-wiped', 'Master key wiped from memory', 'operator'),
      step('bundle-ingested', 'Bundle ingested by the units; each reports the new key current', 'operator'),
      ...CLOSING,
    ],
  },
  recovery: {
    title: 'Recovery ceremony',
    purpose:
      'The master key is rebuilt from any K shares and loaded into new or cleared crypto units; the key itself does not change.',
    issuesShares: false,
    holders: 'required',
    admins: 'required',
    adminThresholds: 'optional',
    units: 'required',
    steps: [
      ...OPENING,
      UNITS_CONFIRMED,
      step('shares-presented', 'K custodians present their shares; each opens with its PIN or passphrase', 'holders'),
      step('kcv-checked', 'Rebuilt key checked: KCV and verification pattern match the record', 'witnesses'),
      step('bundle-created', 'Import bundle (recover) created for every unit', 'operator'),
      step('bundle-signed', 'The admins check what the bundle does and sign it', 'admins'),
      step('master-key-wiped', 'Master key wiped from memory', 'operator'),
      step('bundle-ingested', 'Bundle ingested by the units; each reports the key current', 'operator'),
      ...CLOSING,
    ],
  },
  reshare: {
    title: 'Re-share ceremony',
    purpose:
      'The master key is rebuilt from K current shares and split anew, K of N, onto new or remaining custodians; the old shares are retired. The key does not change.',
    issuesShares: true,
    holders: 'required',
    admins: 'none',
    adminThresholds: 'none',
    units: 'none',
    steps: [
      ...OPENING,
      step(
        'shares-presented',
        'K custodians present their current shares; each opens with its PIN or passphrase',
        'holders',
      ),
      step('kcv-checked', 'Rebuilt key checked: KCV and verification pattern match the record', 'witnesses'),
      step('shares-issued', 'Each custodian receives a new share, written and read back', 'custodians'),
      step('shares-accepted', 'Each custodian confirms holding their new share', 'custodians'),
      step(
        'old-shares-retired',
        'Old shares retired in the record; old cards cleared or share files destroyed',
        'witnesses',
      ),
      step('master-key-wiped', 'Master key wiped from memory', 'operator'),
      ...CLOSING,
    ],
  },
  'admin-change': {
    title: 'Admin change ceremony',
    purpose: 'Admins are added to or removed from the crypto units, and their signature and revocation thresholds set.',
    issuesShares: false,
    holders: 'none',
    admins: 'required',
    adminThresholds: 'required',
    units: 'required',
    steps: [
      ...OPENING,
      UNITS_CONFIRMED,
      step('admin-identities', 'New admins create or bring identities; certificate fingerprints compared', 'admins'),
      step('lockout-checked', 'The new admin set and thresholds checked: no lock-out', 'witnesses'),
      step('bundle-created', 'Import bundle (admin-change) created for every unit', 'operator'),
      step('bundle-signed', 'The current admins check what the bundle does and sign it', 'admins'),
      step('bundle-ingested', 'Bundle ingested by the units; each reports its new admins', 'operator'),
      ...CLOSING,
    ],
  },
  rotation: {
    title: 'Rotation ceremony',
    purpose:
      'A new master key is generated and split onto the custodians; the units move to it, and the old key and its shares are retired.',
    issuesShares: true,
    holders: 'none',
    admins: 'required',
    adminThresholds: 'none',
    units: 'required',
    steps: [
      ...OPENING,
      UNITS_CONFIRMED,
      step('master-key-generated', 'New master key generated; key check value (KCV) read aloud', 'operator'),
      step('shares-issued', 'Each custodian receives a share of the new key, written and read back', 'custodians'),
      step('shares-accepted', 'Each custodian confirms holding their share', 'custodians'),
      step('bundle-created', 'Import bundle (rotate) created for every unit', 'operator'),
      step('bundle-signed', 'The admins check what the bundle does and sign it', 'admins'),
      step('master-key-wiped', 'New master key wiped from memory', 'operator'),
      step('bundle-ingested', 'Bundle ingested by the units; each reports the new key current', 'operator'),
      step(
        'old-shares-retired',
        "Old key's shares retired in the record; old cards cleared or share files destroyed",
        'witnesses',
      ),
      ...CLOSING,
    ],
  },
  zeroize: {
    title: 'Zeroize ceremony',
    purpose: 'The crypto units destroy their master keys and admins; the record is closed with what was destroyed.',
    issuesShares: false,
    holders: 'none',
    admins: 'required',
    adminThresholds: 'none',
    units: 'required',
    steps: [
      ...OPENING,
      UNITS_CONFIRMED,
      step('bundle-created', 'Import bundle (zeroize) created for every unit', 'operator'),
      step('bundle-signed', 'The admins check what the bundle does and sign it', 'admins'),
      step('bundle-ingested', 'Bundle ingested by the units; each reports itself cleared', 'operator'),
      step(
        'destruction-recorded',
        'What was destroyed written into the record (units, cards, share files)',
        'witnesses',
      ),
      ...CLOSING,
    ],
  },
  'share-check': {
    title: 'Share check',
    purpose:
      'Custodians prove that the shares they hold still open and are the ones the record issued; the key is not rebuilt.',
    issuesShares: false,
    holders: 'required',
    admins: 'none',
    adminThresholds: 'none',
    units: 'none',
    steps: [
      ...OPENING,
      step('shares-checked', 'Each custodian opens their share; it matches the commitment in the record', 'holders'),
      ...CLOSING,
    ],
  },
};
