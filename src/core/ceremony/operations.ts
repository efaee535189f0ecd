// Where the ceremony steps used to live; they are now in their own modules:
// the key ceremony (key-ceremony.ts) and a share against its record
// (share-check.ts). Kept so that existing imports keep working.

export {
  generateMasterKeyCeremony,
  keyCeremonyOpenedData,
  TOOL,
  type CustodianShare,
  type GenerateArgs,
  type GenerateResult,
} from './key-ceremony.js';
export {
  cardShareHintsOf,
  checkEnoughShares,
  checkNextSourceAgainstRecord,
  checkSourcesAgainstRecord,
  combineCheckedSources,
  combineSources,
  loadCeremony,
  recoverMasterKey,
  verifyShareAgainstRecord,
  type ExpectedKey,
  type VerifiedShare,
} from './share-check.js';
