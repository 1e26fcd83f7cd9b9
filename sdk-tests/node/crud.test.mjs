// The official @azure/cosmos SDK against Rewind: databases, containers and items.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosClient } from '@azure/cosmos';
import { startRewind } from './rewind.mjs';

let rewind;
let acct;
before(async () => {
  rewind = await startRewind();
  acct = await rewind.account('sdk-node');
});
after(() => rewind?.stop());

const client = (key) => new CosmosClient({ endpoint: acct.endpoint, key: key ?? acct.keys.primaryMasterKey });

test('account metadata is served and signed requests are accepted', async () => {
  const { resource } = await client().getDatabaseAccount();
  assert.equal(resource.writableLocations[0].databaseAccountEndpoint, acct.endpoint);
  assert.equal(resource.consistencyPolicy, 'Session');
});

test('databases and containers are created, read, listed and deleted', async () => {
  const c = client();
  const { database, statusCode } = await c.databases.createIfNotExists({ id: 'shop' });
  assert.equal(statusCode, 201);
  const again = await c.databases.createIfNotExists({ id: 'shop' });
  assert.equal(again.statusCode, 200);
  const { container, resource } = await database.containers.createIfNotExists({
    id: 'orders', partitionKey: { paths: ['/tenantId'] }, defaultTtl: -1,
  }, { offerThroughput: 1000 });
  assert.deepEqual(resource.partitionKey.paths, ['/tenantId']);
  assert.equal(resource.defaultTtl, -1);
  const { resources: dbs } = await c.databases.readAll().fetchAll();
  assert.deepEqual(dbs.map((d) => d.id), ['shop']);
  const { resources: colls } = await database.containers.readAll().fetchAll();
  assert.deepEqual(colls.map((x) => x.id), ['orders']);

  const temp = (await database.containers.create({ id: 'temp', partitionKey: { paths: ['/k'] } })).container;
  await temp.delete();
  await assert.rejects(temp.read(), (e) => e.code === 404);
  await assert.rejects(database.containers.create({ id: 'orders', partitionKey: { paths: ['/tenantId'] } }), (e) => e.code === 409);
  assert.ok(container);
});

test('items: create, read, replace, upsert, delete, with etags and partition keys', async () => {
  const container = client().database('shop').container('orders');
  const { resource: created, statusCode, requestCharge } = await container.items.create({ id: 'o1', tenantId: 't1', total: 10 });
  assert.equal(statusCode, 201);
  assert.ok(requestCharge > 0, 'every response carries a request charge');
  assert.ok(created._etag && created._rid && created._ts && created._self);

  const { resource: read } = await container.item('o1', 't1').read();
  assert.equal(read.total, 10);
  const { statusCode: missing } = await container.item('o1', 'other-tenant').read();
  assert.equal(missing, 404);

  await assert.rejects(container.items.create({ id: 'o1', tenantId: 't1' }), (e) => e.code === 409);

  const { resource: replaced } = await container.item('o1', 't1').replace({ id: 'o1', tenantId: 't1', total: 20 });
  assert.equal(replaced.total, 20);
  assert.notEqual(replaced._etag, created._etag);

  // A stale etag is refused with 412.
  await assert.rejects(
    container.item('o1', 't1').replace({ id: 'o1', tenantId: 't1', total: 30 }, { accessCondition: { type: 'IfMatch', condition: created._etag } }),
    (e) => e.code === 412,
  );
  const { resource: fresh } = await container.item('o1', 't1').replace(
    { id: 'o1', tenantId: 't1', total: 31 }, { accessCondition: { type: 'IfMatch', condition: replaced._etag } });
  assert.equal(fresh.total, 31);

  const up1 = await container.items.upsert({ id: 'o2', tenantId: 't2', total: 1 });
  assert.equal(up1.statusCode, 201);
  const up2 = await container.items.upsert({ id: 'o2', tenantId: 't2', total: 2 });
  assert.equal(up2.statusCode, 200);
  assert.equal(up2.resource.total, 2);

  const { resources: all } = await container.items.readAll().fetchAll();
  assert.deepEqual(all.map((i) => i.id).sort(), ['o1', 'o2']);

  await container.item('o2', 't2').delete();
  const { statusCode: gone } = await container.item('o2', 't2').read();
  assert.equal(gone, 404);
});

test('paging through the item feed with continuation tokens', async () => {
  const container = client().database('shop').container('orders');
  for (let i = 0; i < 7; i++) await container.items.create({ id: `p${i}`, tenantId: 'paging', n: i });
  const it = container.items.readAll({ maxItemCount: 3 });
  const pages = [];
  while (it.hasMoreResults()) {
    const { resources } = await it.fetchNext();
    if (resources.length) pages.push(resources.length);
  }
  assert.ok(pages.length >= 3, `pages: ${pages}`);
  assert.equal(pages.reduce((a, b) => a + b, 0), 8); // 7 new + o1
});

test('a wrong key gets 401 and a read-only key cannot write', async () => {
  const wrong = Buffer.alloc(64, 7).toString('base64');
  await assert.rejects(client(wrong).database('shop').read(), (e) => e.code === 401);
  const ro = client(acct.keys.primaryReadonlyMasterKey).database('shop').container('orders');
  const { resource } = await ro.item('o1', 't1').read();
  assert.equal(resource.id, 'o1');
  await assert.rejects(ro.items.create({ id: 'ro', tenantId: 't1' }), (e) => e.code === 403);
});

test('a regenerated key stops working at once; the other keys keep working', async () => {
  const before = client().database('shop');
  await before.read();
  const keys = await rewind.call('regenerate_key', { subscription_id: acct.subscriptionId, name: acct.name, kind: 'PrimaryMaster' });
  assert.notEqual(keys.primaryMasterKey, acct.keys.primaryMasterKey);
  assert.equal(keys.secondaryMasterKey, acct.keys.secondaryMasterKey);
  await assert.rejects(client(acct.keys.primaryMasterKey).database('shop').read(), (e) => e.code === 401);
  const { resource } = await client(keys.primaryMasterKey).database('shop').read();
  assert.equal(resource.id, 'shop');
  acct.keys = keys;
});

test('an item over 2 MB is refused with 413', async () => {
  const container = client().database('shop').container('orders');
  await assert.rejects(container.items.create({ id: 'big', tenantId: 't1', blob: 'x'.repeat(2 * 1024 * 1024 + 10) }), (e) => e.code === 413);
});

test('patch operations change parts of an item, atomically and conditionally', async () => {
  const container = client().database('shop').container('orders');
  await container.items.create({ id: 'pa', tenantId: 't9', total: 5, lines: ['a'], note: 'x' });
  const { resource } = await container.item('pa', 't9').patch([
    { op: 'incr', path: '/total', value: 3 },
    { op: 'add', path: '/lines/-', value: 'b' },
    { op: 'remove', path: '/note' },
  ]);
  assert.equal(resource.total, 8);
  assert.deepEqual(resource.lines, ['a', 'b']);
  assert.equal(resource.note, undefined);
  await assert.rejects(container.item('pa', 't9').patch([{ op: 'replace', path: '/missing', value: 1 }]), (e) => e.code === 400);
  await assert.rejects(
    container.item('pa', 't9').patch({ condition: 'from c where c.total > 100', operations: [{ op: 'set', path: '/total', value: 0 }] }),
    (e) => e.code === 412,
  );
  const { resource: after } = await container.item('pa', 't9').read();
  assert.equal(after.total, 8, 'failed patches change nothing');
});
