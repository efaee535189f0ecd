import { fromB64url } from '../encoding.js';

// Ways for people to compare fingerprints (of transport keys, units, the
// transcript head) aloud or by eye: grouped hex, and the PGP word list.

/** Uppercase hex in groups of `groupSize` bytes: 32 bytes -> 16 groups of 4 hex digits. */
export function hexGroups(bytes: Uint8Array, groupSize = 2): string[] {
  if (!Number.isSafeInteger(groupSize) || groupSize < 1) {
    throw new RangeError(`hexGroups: groupSize must be a positive integer, not ${groupSize}`);
  }
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += groupSize) {
    groups.push(
      Buffer.from(bytes.subarray(i, i + groupSize))
        .toString('hex')
        .toUpperCase(),
    );
  }
  return groups;
}

// The PGP word list (Patrick Juola and Philip Zimmermann, 1995; PGPfone,
// later PGP's "biometric" fingerprint display). Two lists of 256 words:
// the "even" list (two syllables) for bytes at offsets 0, 2, 4, ... and the
// "odd" list (three syllables) for bytes at offsets 1, 3, 5, ...; a dropped,
// repeated or swapped word therefore breaks the pattern.
//
// Transcribed from the CPAN module Encode::Wordlist::PGP 1.1 (Earle Martin),
// and cross-checked word for word against three independent transcriptions:
// Warren Guy's javascript-pgp-word-list as carried by magic-wormhole
// (byte -> [even, odd] table), thblt/pgp-words (Python), and the Wikipedia
// "PGP word list" table. All agree; the only variant is byte 0xFF of the
// odd list, which some copies spell "Yucatán": the ASCII "Yucatan" is kept
// here, as in the CPAN module and magic-wormhole, so the words print anywhere.
const EVEN_WORDS = (
  'aardvark absurd accrue acme adrift adult afflict ahead aimless Algol ' +
  'allow alone ammo ancient apple artist assume Athens atlas Aztec ' +
  'baboon backfield backward banjo beaming bedlamp beehive beeswax befriend ' +
  'Belfast berserk billiard bison blackjack blockade blowtorch bluebird ' +
  'bombast bookshelf brackish breadline breakup brickyard briefcase Burbank ' +
  'button buzzard cement chairlift chatter checkup chisel choking chopper ' +
  'Christmas clamshell classic classroom cleanup clockwork cobra commence ' +
  'concert cowbell crackdown cranky crowfoot crucial crumpled crusade cubic ' +
  'dashboard deadbolt deckhand dogsled dragnet drainage dreadful drifter ' +
  'dropper drumbeat drunken Dupont dwelling eating edict egghead eightball ' +
  'endorse endow enlist erase escape exceed eyeglass eyetooth facial fallout ' +
  'flagpole flatfoot flytrap fracture framework freedom frighten gazelle ' +
  'Geiger glitter glucose goggles goldfish gremlin guidance hamlet highchair ' +
  'hockey indoors indulge inverse involve island jawbone keyboard kickoff ' +
  'kiwi klaxon locale lockup merit minnow miser Mohawk mural music necklace ' +
  'Neptune newborn nightbird Oakland obtuse offload optic orca payday peachy ' +
  'pheasant physique playhouse Pluto preclude prefer preshrunk printer ' +
  'prowler pupil puppy python quadrant quiver quota ragtime ratchet rebirth ' +
  'reform regain reindeer rematch repay retouch revenge reward rhythm ' +
  'ribcage ringbolt robust rocker ruffled sailboat sawdust scallion scenic ' +
  'scorecard Scotland seabird select sentence shadow shamrock showgirl ' +
  'skullcap skydive slingshot slowdown snapline snapshot snowcap snowslide ' +
  'solo southward soybean spaniel spearhead spellbind spheroid spigot ' +
  'spindle spyglass stagehand stagnate stairway standard stapler steamship ' +
  'sterling stockman stopwatch stormy sugar surmount suspense sweatband ' +
  'swelter tactics talon tapeworm tempest tiger tissue tonic topmost ' +
  'tracker transit trauma treadmill Trojan trouble tumor tunnel tycoon uncut ' +
  'unearth unwind uproot upset upshot vapor village virus Vulcan waffle ' +
  'wallet watchword wayside willow woodlark Zulu'
).split(' ');

const ODD_WORDS = (
  'adroitness adviser aftermath aggregate alkali almighty amulet amusement ' +
  'antenna applicant Apollo armistice article asteroid Atlantic atmosphere ' +
  'autopsy Babylon backwater barbecue belowground bifocals bodyguard ' +
  'bookseller borderline bottomless Bradbury bravado Brazilian breakaway ' +
  'Burlington businessman butterfat Camelot candidate cannonball Capricorn ' +
  'caravan caretaker celebrate cellulose certify chambermaid Cherokee ' +
  'Chicago clergyman coherence combustion commando company component ' +
  'concurrent confidence conformist congregate consensus consulting ' +
  'corporate corrosion councilman crossover crucifix cumbersome customer ' +
  'Dakota decadence December decimal designing detector detergent determine ' +
  'dictator dinosaur direction disable disbelief disruptive distortion ' +
  'document embezzle enchanting enrollment enterprise equation equipment ' +
  'escapade Eskimo everyday examine existence exodus fascinate filament ' +
  'finicky forever fortitude frequency gadgetry Galveston getaway glossary ' +
  'gossamer graduate gravity guitarist hamburger Hamilton handiwork ' +
  'hazardous headwaters hemisphere hesitate hideaway holiness hurricane ' +
  'hydraulic impartial impetus inception indigo inertia infancy inferno ' +
  'informant insincere insurgent integrate intention inventive Istanbul ' +
  'Jamaica Jupiter leprosy letterhead liberty maritime matchmaker maverick ' +
  'Medusa megaton microscope microwave midsummer millionaire miracle ' +
  'misnomer molasses molecule Montana monument mosquito narrative nebula ' +
  'newsletter Norwegian October Ohio onlooker opulent Orlando outfielder ' +
  'Pacific pandemic Pandora paperweight paragon paragraph paramount ' +
  'passenger pedigree Pegasus penetrate perceptive performance pharmacy ' +
  'phonetic photograph pioneer pocketful politeness positive potato ' +
  'processor provincial proximate puberty publisher pyramid quantity ' +
  'racketeer rebellion recipe recover repellent replica reproduce resistor ' +
  'responsive retraction retrieval retrospect revenue revival revolver ' +
  'sandalwood sardonic Saturday savagery scavenger sensation sociable ' +
  'souvenir specialist speculate stethoscope stupendous supportive ' +
  'surrender suspicious sympathy tambourine telephone therapist tobacco ' +
  'tolerance tomorrow torpedo tradition travesty trombonist truncated ' +
  'typewriter ultimate undaunted underfoot unicorn unify universe unravel ' +
  'upcoming vacancy vagabond vertigo Virginia visitor vocalist voyager ' +
  'warranty Waterloo whimsical Wichita Wilmington Wyoming yesteryear Yucatan'
).split(' ');

if (EVEN_WORDS.length !== 256 || ODD_WORDS.length !== 256) {
  throw new Error('fingerprint: a PGP word list must hold exactly 256 words');
}

/** The two-syllable list, for bytes at even offsets (0, 2, 4, ...). */
export const PGP_EVEN_WORDS: readonly string[] = Object.freeze(EVEN_WORDS);
/** The three-syllable list, for bytes at odd offsets (1, 3, 5, ...). */
export const PGP_ODD_WORDS: readonly string[] = Object.freeze(ODD_WORDS);

/** One PGP word per byte, alternating the even and odd lists, starting with the even one. */
export function pgpWords(bytes: Uint8Array): string[] {
  const words: string[] = [];
  for (const [i, b] of bytes.entries()) {
    words.push((i % 2 === 0 ? PGP_EVEN_WORDS : PGP_ODD_WORDS)[b]!);
  }
  return words;
}

/** Decodes a fingerprint given as strict base64url (as the formats carry them). */
export function fingerprintFromB64url(b64url: string): Uint8Array {
  return new Uint8Array(fromB64url(b64url, 'The fingerprint', 'InvalidArgument'));
}
