/** Entry point: fonts, styles, the shared job-event stream, and the app. */
import '@fontsource-variable/inter/wght.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app.js';
import { jobEvents } from './events.js';

jobEvents.start();
render(<App />, document.getElementById('app')!);
