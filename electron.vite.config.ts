// Build of the Electron app: main (ESM) -> out/main, preload (CommonJS) ->
// out/preload, renderer (React) -> out/renderer. `npm run build:app` runs it.
// The Node-only layers (src/core, src/emulator, src/cli) are built by tsc
// (src/tsconfig.node.json); main bundles whatever of core it imports.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { developmentRendererCsp, RENDERER_CSP_META } from './src/shared/csp';

const projectRoot = fileURLToPath(new URL('.', import.meta.url));
const fromRoot = (path: string): string => resolve(projectRoot, path);

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('out/main'),
      // package.json "main" points at out/main/index.js; the package is ESM,
      // so electron-vite emits ES modules for main.
      rolldownOptions: {
        // The smart-card helper process (src/core/cards/pcsc-process.ts) is
        // its own entry: src/main/pcsc-helper.ts starts out/main/pcsc-worker.js.
        input: { index: fromRoot('src/main/index.ts'), 'pcsc-worker': fromRoot('src/core/cards/pcsc-worker.ts') },
      },
    },
  },

  preload: {
    build: {
      outDir: fromRoot('out/preload'),
      // A sandboxed preload is loaded with Electron's own `require`, so it
      // must be CommonJS (Electron docs, "ESM in Electron": sandboxed preload
      // scripts cannot be ES modules), and it cannot load anything from
      // node_modules: bundle every dependency into the one file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: fromRoot('src/preload/index.ts') },
        output: {
          format: 'cjs',
          entryFileNames: '[name].cjs',
          chunkFileNames: '[name]-[hash].cjs',
        },
      },
    },
  },

  renderer: {
    root: fromRoot('src/renderer'),
    plugins: [react(), developmentCspPlugin()],
    build: {
      outDir: fromRoot('out/renderer'),
      // Never turn an asset into a data: URL; the CSP allows only 'self'.
      assetsInlineLimit: 0,
      rolldownOptions: {
        input: { index: fromRoot('src/renderer/index.html') },
      },
    },
  },
});

/**
 * In `electron-vite dev` only, swap index.html's production policy for the
 * development one: Vite's client and React Fast Refresh need inline script
 * and a WebSocket. Production builds keep index.html's policy untouched.
 */
function developmentCspPlugin(): Plugin {
  return {
    name: 'key-ceremony:development-csp',
    apply: 'serve',
    transformIndexHtml: {
      order: 'pre',
      handler(html, context) {
        const devServerUrl = context.server?.resolvedUrls?.local[0];
        if (devServerUrl === undefined) return html;
        if (!html.includes(RENDERER_CSP_META)) {
          throw new Error('src/renderer/index.html no longer carries RENDERER_CSP_META from src/shared/csp.ts.');
        }
        return html.replace(RENDERER_CSP_META, developmentRendererCsp(devServerUrl));
      },
    },
  };
}
