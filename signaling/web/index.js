// index.js: the landing page: which page is for whom.
import { loadStrings, languageSwitch } from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));
