// Layer guard. src/tsconfig.node.json maps "electron" here, so an import of
// Electron from src/core, src/emulator or src/cli fails to compile with the
// message below. Electron belongs in src/main and src/preload only.
const layerViolation: 'src/core, src/emulator and src/cli must not import Electron (it belongs in src/main)' =
  'imported';
export default layerViolation;
