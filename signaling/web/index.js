// index.js: the landing page: people sign in with their account (or pick the page
// they use with an access token) and land on the page of their role.
import { Api, ApiError, applyStrings, languageSwitch, loadStrings, say, t } from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));
applyStrings(document);

const $ = (id) => document.getElementById(id);
let landing = '/';

// The CSRF token rides with every signed-in write (X-CSRF-Token); the page keeps it
// for this tab only. The session itself is the HttpOnly cookie the browser holds.
function signedIn(info) {
  sessionStorage.setItem('lt.csrf', info.csrf_token);
  sessionStorage.removeItem('lt.token');
  landing = info.page;
  if (info.must_change) {
    $('signin').classList.add('hidden');
    $('change').classList.remove('hidden');
    $('old').value = $('password').value;
    $('new').focus();
    return;
  }
  location.assign(landing);
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  say($('signin-msg'), t('auth.checking'));
  const res = await fetch('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: $('user').value.trim(), password: $('password').value }),
  });
  if (res.status === 201) {
    signedIn(await res.json());
    return;
  }
  say($('signin-msg'), res.status === 429 ? t('signin.locked')
    : res.status === 401 ? t('signin.wrong') : `${t('err.generic')}: ${res.status}`, 'error');
});

$('change').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await new Api(null).post('/api/v1/session/password',
      { old_password: $('old').value, new_password: $('new').value });
    location.assign(landing);
  } catch (err) {
    const msg = err instanceof ApiError && err.body?.error?.message;
    say($('change-msg'), `${t('err.generic')}: ${msg || err.message}`, 'error');
  }
});

// Already signed in on this device (another tab, or a proxy that vouches for the
// person: single sign-on): straight to the page of the role. The answer to a POST
// with no password is 400 where no trusted proxy names anyone; the form stays.
Api.findSession({ singleSignOn: true }).then((me) => {
  if (me && !me.must_change) location.assign(me.page || '/');
}).catch(() => {});
