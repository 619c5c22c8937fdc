// Entry point of the admin console page (admin.html).
import { render } from 'preact';
import { AdminApp } from './admin-app.js';
import './admin.css';

const root = document.getElementById('admin');
if (root === null) throw new Error('#admin is missing from admin.html');
render(<AdminApp />, root);
