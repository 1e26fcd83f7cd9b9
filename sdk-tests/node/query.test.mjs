// Queries through the official SDK: parameters, ORDER BY, paging with continuation tokens,
// aggregates, and queries scoped to one partition.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosClient } from '@azure/cosmos';
import { startRewind } from './rewind.mjs';

let rewind;
let container;
before(async () => {
  rewind = await startRewind();
  const acct = await rewind.account('sdk-query');
  const client = new CosmosClient({ endpoint: acct.endpoint, key: acct.keys.primaryMasterKey });
  const { database } = await client.databases.createIfNotExists({ id: 'q' });
  ({ container } = await database.containers.createIfNotExists({ id: 'people', partitionKey: { paths: ['/city'] } }));
  const people = [
    ['ann', 'Oslo', 34], ['bob', 'Oslo', 27], ['cid', 'Rome', 41], ['dan', 'Rome', 19],
    ['eve', 'Oslo', 52], ['fay', 'Lima', 30], ['gus', 'Lima', 23], ['hal', 'Rome', 38],
  ];
  for (const [id, city, age] of people) await container.items.create({ id, city, age, tags: age > 30 ? ['senior'] : [] });
});
after(() => rewind?.stop());

test('a parameterized query with ORDER BY, paged through continuation tokens', async () => {
  const iterator = container.items.query({
    query: 'SELECT c.id, c.age FROM c WHERE c.age >= @min ORDER BY c.age DESC',
    parameters: [{ name: '@min', value: 25 }],
  }, { maxItemCount: 2 });
  const seen = [];
  let pages = 0;
  while (iterator.hasMoreResults()) {
    const { resources } = await iterator.fetchNext();
    if (resources.length) { pages += 1; seen.push(...resources); }
  }
  assert.ok(pages >= 3, `expected several pages, got ${pages}`);
  assert.deepEqual(seen.map((r) => r.id), ['eve', 'cid', 'hal', 'ann', 'fay', 'bob']);
  assert.deepEqual(Object.keys(seen[0]).sort(), ['age', 'id']);
});

test('VALUE COUNT(1), IN, CONTAINS, IS_DEFINED and TOP', async () => {
  const { resources: [count] } = await container.items.query('SELECT VALUE COUNT(1) FROM c WHERE c.city IN ("Oslo", "Lima")').fetchAll();
  assert.equal(count, 5);
  const { resources: top } = await container.items.query('SELECT TOP 2 VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.tags, "senior") ORDER BY c.id').fetchAll();
  assert.deepEqual(top, ['ann', 'cid']);
  const { resources: named } = await container.items.query('SELECT VALUE c.id FROM c WHERE CONTAINS(c.id, "a") AND IS_DEFINED(c.age) ORDER BY c.id').fetchAll();
  assert.deepEqual(named, ['ann', 'dan', 'fay', 'hal']);
});

test('a query scoped to one partition key sees only that partition', async () => {
  const { resources } = await container.items.query('SELECT VALUE c.id FROM c ORDER BY c.id', { partitionKey: 'Rome' }).fetchAll();
  assert.deepEqual(resources, ['cid', 'dan', 'hal']);
});

test('a malformed query is a 400 naming the problem', async () => {
  await assert.rejects(container.items.query('SELECT * FROM c WHERE').fetchAll(), (e) => e.code === 400 && /syntax/.test(e.message));
});
