// Renderer entry point. The renderer draws; everything privileged happens in
// main behind window.keyCeremony.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import './styles.css';

const container = document.getElementById('root');
if (container === null) {
  throw new Error('index.html has no element with id "root" to render into.');
}

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
