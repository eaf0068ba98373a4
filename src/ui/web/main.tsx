// Entry point of the page's script (bundled by esbuild into app.js).

import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('root')!);
