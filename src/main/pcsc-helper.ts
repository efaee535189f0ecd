// Smart-card helper processes for the app (src/core/cards/pcsc-process.ts):
// started with Electron's utilityProcess, because the app's runAsNode fuse is
// off (electron-builder.yml), so child_process.fork cannot start a Node
// process from the Electron binary. The helper script is built next to this
// file (electron.vite.config.ts: main input "pcsc-worker").
import { utilityProcess } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PcscWorkerReply, SpawnPcscWorker } from '../core/cards/pcsc-process.js';

const HELPER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'pcsc-worker.js');

export const utilityPcscWorker: SpawnPcscWorker = () => {
  const child = utilityProcess.fork(HELPER_SCRIPT, [], {
    serviceName: 'Key Ceremony smart cards',
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  return {
    post: (request) => {
      if (!exited) child.postMessage(request);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as PcscWorkerReply)),
    onExit: (listener) =>
      child.once('exit', (code) => {
        exited = true;
        listener(`exit code ${code}`);
      }),
    kill: () => {
      if (!exited) child.kill();
    },
    // The app runs until it is quit; an idle helper holds nothing open.
    setBusy: () => undefined,
  };
};
