// The `rewind` command line as an operator's script runs it, end to end: a user who holds the
// Restore Operator role makes an API token, restores one container to a chosen second and waits
// for it with a progress bar; the restored items are read back with the official @azure/cosmos
// SDK; once revoked, the token is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { ROOT, startRewind } from './rewind.mjs';

const REWIND = join(ROOT, 'target', 'debug', 'rewind');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

let rewind;
let src;
before(async () => {
  rewind = await startRewind();
  src = await rewind.account('cli-src');
});
after(() => rewind?.stop());

/** Runs `rewind ARGS` with `token`; under a pseudo-terminal (as typed at a shell) with `tty`. */
function cli(token, args, { tty = false } = {}) {
  const env = { ...process.env, REWIND_URL: rewind.base, REWIND_TOKEN: token, REWIND_SUBSCRIPTION: src.subscriptionId, TERM: 'xterm' };
  const out = tty
    ? spawnSync('script', ['-qec', [REWIND, ...args].map(quote).join(' '), '/dev/null'], { env, encoding: 'utf8', timeout: 120_000 })
    : spawnSync(REWIND, args, { env, encoding: 'utf8', timeout: 120_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** An item's own fields, without the ones the service adds. */
const userFields = ({ _rid, _self, _etag, _attachments, _ts, ...rest }) => rest;
const byId = (a, b) => a.id.localeCompare(b.id);

test('a Restore Operator restores one container to a chosen second from the command line', async () => {
  // A user holding Restore Operator on the subscription. Starting a restore into a new account
  // also needs accounts/write there (SPEC §5, as Cosmos DB asks for write on the target's
  // resource group): Account Operator gives it without keys or data.
  const roles = await rewind.call('list_role_definitions', { subscription_id: src.subscriptionId });
  const role = (name) => roles.find((r) => r.name === name).id;
  await rewind.call('create_user', { name: 'rita', password: 'rita-first-password' });
  for (const name of ['Restore Operator', 'Account Operator']) {
    await rewind.call('create_role_assignment', { subscription_id: src.subscriptionId, account_id: '', user_name: 'rita', role_id: role(name) });
  }
  const rita = await rewind.signIn('rita', 'rita-first-password');
  await rita('change_password', { current: 'rita-first-password', new: 'rita-own-password-2026', confirm: 'rita-own-password-2026' });
  const made = await rita('create_api_token', { name: 'restore script', days: 1 });
  const token = made.secret;

  // Two containers through the SDK; the chosen second falls between two versions of `orders`.
  const client = new CosmosClient({ endpoint: src.endpoint, key: src.keys.primaryMasterKey });
  const { database } = await client.databases.createIfNotExists({ id: 'shop' });
  const { container: orders } = await database.containers.createIfNotExists({ id: 'orders', partitionKey: { paths: ['/tenant'] } });
  const { container: carts } = await database.containers.createIfNotExists({ id: 'carts', partitionKey: { paths: ['/tenant'] } });
  const before = [];
  for (let i = 0; i < 30; i++) {
    const item = { id: `o${i}`, tenant: `t${i % 3}`, total: i * 10, lines: [{ sku: `s${i}`, qty: i % 4 }] };
    await orders.items.create(item);
    before.push(item);
  }
  await carts.items.create({ id: 'c1', tenant: 't0' });
  const chosen = Math.floor(Date.now() / 1000) + 1;
  const at = new Date(chosen * 1000).toISOString().replace('.000Z', 'Z');
  while (Date.now() < chosen * 1000 + 50) await sleep(10);
  for (let i = 0; i < 10; i++) await orders.item(`o${i}`, `t${i % 3}`).replace({ id: `o${i}`, tenant: `t${i % 3}`, total: -1 });
  for (let i = 10; i < 15; i++) await orders.item(`o${i}`, `t${i % 3}`).delete();
  await orders.items.create({ id: 'late', tenant: 't0' });
  const afterwards = Date.now();

  // The restorable window reaches past the changes once they are shipped (about a second).
  for (let i = 0; ; i++) {
    const list = cli(token, ['restorable', 'list', '--output', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const latest = JSON.parse(list.stdout).find((a) => a.name === 'cli-src')?.latest_restorable;
    if (latest && Date.parse(latest) >= afterwards) break;
    assert.ok(i < 100, `the window never reached the changes: ${latest}`);
    await sleep(200);
  }

  const run = cli(token, ['restore', 'start', '--source', src.id, '--at', at, '--target', 'cli-restored', '--resource', 'shop/orders', '--wait', '--timeout', '120'], { tty: true });
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /\d+\/30 items \(/, 'a progress bar counting the 30 items was drawn while waiting');
  assert.match(run.stdout, /Succeeded/);

  // The restored account, read with the SDK: `orders` exactly as it was at the chosen second,
  // and nothing else.
  const keys = await rewind.call('list_keys', { subscription_id: src.subscriptionId, name: 'cli-restored' });
  const restored = await rewind.call('get_account', { subscription_id: src.subscriptionId, name: 'cli-restored' });
  const back = new CosmosClient({ endpoint: restored.endpoint, key: keys.primaryMasterKey });
  const { resources: items } = await back.database('shop').container('orders').items.readAll().fetchAll();
  assert.deepEqual(items.map(userFields).sort(byId), before.sort(byId));
  const { resources: containers } = await back.database('shop').containers.readAll().fetchAll();
  assert.deepEqual(containers.map((c) => c.id), ['orders']);

  // Revoked, the token opens nothing: exit code 3 (not signed in or not allowed).
  await rita('revoke_api_token', { id: made.token.id });
  const refused = cli(token, ['jobs', 'list']);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /token/i);
});

