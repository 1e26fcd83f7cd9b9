// Provisioned throughput is enforced: over budget, requests get 429 with x-ms-retry-after-ms,
// and the SDK's own retries carry a burst through.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosClient } from '@azure/cosmos';
import { startRewind } from './rewind.mjs';

let rewind;
let acct;
before(async () => {
  rewind = await startRewind();
  acct = await rewind.account('sdk-throughput');
  const c = new CosmosClient({ endpoint: acct.endpoint, key: acct.keys.primaryMasterKey });
  const { database } = await c.databases.createIfNotExists({ id: 'hot' });
  await database.containers.createIfNotExists({ id: 'writes', partitionKey: { paths: ['/k'] } }, { offerThroughput: 400 });
});
after(() => rewind?.stop());

const doc = (i) => ({ id: `d${i}`, k: `k${i % 4}`, pad: 'x'.repeat(1500) });

test('a burst over 400 RU/s is refused with 429 and a retry time', async () => {
  const noRetry = new CosmosClient({
    endpoint: acct.endpoint, key: acct.keys.primaryMasterKey,
    connectionPolicy: { retryOptions: { maxRetryAttemptCount: 0 } },
  }).database('hot').container('writes');
  const results = await Promise.allSettled(Array.from({ length: 120 }, (_, i) => noRetry.items.create(doc(i))));
  const throttled = results.filter((r) => r.status === 'rejected' && r.reason.code === 429);
  assert.ok(throttled.length > 0, 'some writes must be throttled');
  assert.ok(Number(throttled[0].reason.headers['x-ms-retry-after-ms']) > 0);
  assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason.code === 429));
});

test('the SDK retries throttled requests and the burst completes', async () => {
  const c = new CosmosClient({ endpoint: acct.endpoint, key: acct.keys.primaryMasterKey }).database('hot').container('writes');
  const results = await Promise.all(Array.from({ length: 80 }, (_, i) => c.items.upsert(doc(1000 + i))));
  assert.equal(results.length, 80);
  assert.ok(results.every((r) => r.statusCode === 201 || r.statusCode === 200));
});
