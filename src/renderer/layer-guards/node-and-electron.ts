// Layer guard. src/renderer/tsconfig.json maps "electron" and "node:*" here,
// so an import of either from the renderer fails to compile with the message
// below. The renderer is a sandboxed web page: it reaches the rest of the app
// only through window.keyCeremony (src/shared/api.ts). This file is excluded
// from the renderer's own compilation and is never bundled.
const layerViolation: 'src/renderer must not import Electron or Node (use window.keyCeremony, see src/shared/api.ts)' =
  'imported';
export default layerViolation;
