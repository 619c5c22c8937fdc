// Entry point of the page: one controller (page logic over the SDK's conversation store), one view.
import { render } from 'preact';
import { App } from './app.js';
import { ChatController } from './chat-controller.js';
import './styles.css';

const root = document.getElementById('app');
if (root === null) throw new Error('#app is missing from index.html');
const controller = new ChatController();
render(<App controller={controller} />, root);
controller.start();
