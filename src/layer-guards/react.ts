// Layer guard. src/tsconfig.node.json maps "react" and "react-dom" here, so an
// import of React from src/core, src/emulator or src/cli fails to compile with
// the message below. React belongs in src/renderer only.
const layerViolation: 'src/core, src/emulator and src/cli must not import React (it belongs in src/renderer)' =
  'imported';
export default layerViolation;
