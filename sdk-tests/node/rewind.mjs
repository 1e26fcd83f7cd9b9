// Starts a real Rewind (the debug binary) on a free port with a fresh data folder, and makes an
// account through the portal's own server functions, returning its endpoint and keys.
// `ROOT` is exported for tests that run the `rewind` command line next to it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

export const ROOT = resolve(import.meta.dirname, '..', '..');

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
    s.on('error', fail);
  });
}

/**
 * Signs `username` in and returns a function calling the portal's server functions in that
 * session (each user's cookie of their own).
 */
async function signIn(base, username, password) {
  let cookie = '';
  const call = async (fn, args) => {
    const res = await fetch(`${base}/api/${fn}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams(args),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    const body = await res.text();
    if (!res.ok) throw new Error(`${fn}: ${res.status} ${body}`);
    return body ? JSON.parse(body) : null;
  };
  await call('login', { username, password });
  return call;
}

export async function startRewind() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'rewind-sdk-'));
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(join(ROOT, 'target', 'debug', 'rewind'), [], {
    cwd: ROOT,
    env: { ...process.env, REWIND_BIND: `127.0.0.1:${port}`, REWIND_DATA_DIR: data, REWIND_ADMIN_USER: 'admin', REWIND_ADMIN_PASSWORD: 'sdk-admin-password', REWIND_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not up yet */ }
    if (i > 300) throw new Error('Rewind did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const call = await signIn(base, 'admin', 'sdk-admin-password');
  return {
    base,
    call,
    /** A session of another user, who signs in with `password`. */
    signIn: (username, password) => signIn(base, username, password),
    async account(name) {
      const sub = await call('create_subscription', { name: `sub-${name}` });
      const acct = await call('create_account', { subscription_id: sub.id, name, region: 'local', mode: 'Continuous7Days' });
      const keys = await call('list_keys', { subscription_id: sub.id, name });
      return { id: acct.id, endpoint: acct.endpoint, keys, subscriptionId: sub.id, name };
    },
    stop() { proc.kill('SIGTERM'); rmSync(data, { recursive: true, force: true }); },
  };
}
