// Entry point of the page: one controller (page logic over the SDK's conversation store), one view,
// shown once the reader's language is loaded (English is in this chunk; another is a few kB away).
import { render } from 'preact';
import { App } from './app.js';
import { ChatController } from './chat-controller.js';
import { initialLocale, setLocale } from './i18n.js';
import './styles.css';

const root = document.getElementById('app');
if (root === null) throw new Error('#app is missing from index.html');
const controller = new ChatController();
// A catalog that does not load leaves the page in English rather than blank.
void setLocale(initialLocale())
  .catch(() => undefined)
  .finally(() => {
    render(<App controller={controller} />, root);
    controller.start();
  });
