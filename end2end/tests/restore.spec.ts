// Point-in-time restore in a real browser: data written, a later change, then a restore of one
// container to the moment before the change into a new account, watched until it is done.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { assign, createAccount, createSubscription, createUser, hydrated, signIn, signInFirstTime } from './fixtures/portal';

test('a container is restored to a chosen second into a new account, with live progress', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await createSubscription(page, 'Restore Sub');
  await page.getByRole('link', { name: 'Restore Sub', exact: true }).click();
  await hydrated(page);
  const subUrl = page.url();
  const subId = subUrl.split('/').pop()!;
  await createAccount(page, 'shop-live', 'Continuous7Days');
  await hydrated(page);
  const accountUrl = page.url();

  // Some data, through the data explorer.
  await page.getByRole('link', { name: 'Data explorer' }).click();
  await hydrated(page);
  await page.getByLabel('Database id').fill('shop');
  await page.getByRole('button', { name: 'Create database' }).click();
  await expect(page.getByTestId('tree').getByText('shop', { exact: true })).toBeVisible();
  await page.getByLabel('In database').fill('shop');
  await page.getByLabel('Container id').fill('orders');
  await page.getByLabel('Partition key').fill('/tenant');
  await page.getByRole('button', { name: 'Create container' }).click();
  await page.getByTestId('tree').getByRole('button', { name: 'orders' }).click();
  await page.getByRole('button', { name: 'New item' }).click();
  await page.getByLabel('Item JSON').fill('{ "id": "o-1", "tenant": "acme", "total": 42 }');
  await page.getByRole('button', { name: 'Save item' }).click();
  await expect(page.getByTestId('items').getByRole('button', { name: 'o-1' })).toBeVisible();

  // The account's restore window reaches past the item once the backup has shipped it (about a
  // second); the form starts at the latest restore point.
  await page.goto(accountUrl);
  await hydrated(page);
  await page.waitForTimeout(2500);
  await page.getByRole('link', { name: 'Restore to a point in time' }).click();
  await expect(page.getByRole('heading', { name: 'Restore shop-live' })).toBeVisible();
  await hydrated(page);

  // A change after the restore point: it must not come back.
  const late = await page.request.post('/api/explorer_save_item', {
    form: {
      subscription_id: subId, name: 'shop-live', database: 'shop', container: 'orders',
      json: '{ "id": "o-late", "tenant": "acme", "total": 1 }', original_pk: '', original_id: '',
    },
  });
  expect(late.status()).toBe(200);

  await page.getByRole('button', { name: 'Show what existed then' }).click();
  await expect(page.getByTestId('resources-at')).toBeVisible();
  await page.locator('input[data-resource="shop/orders"]').check();
  await page.getByLabel('New account name').fill('shop-rescued');
  await expect(page.getByTestId('restore-review')).toContainText('Restore shop/orders of shop-live');
  // A dry run shows the plan before anything is filed.
  await page.getByRole('button', { name: 'Check the plan' }).click();
  await expect(page.getByTestId('restore-plan')).toContainText('Plan: 1 database(s), 1 container(s)');
  await page.getByRole('button', { name: 'Start restore' }).click();

  // Back on the restore page, the job runs to completion.
  await expect(page).toHaveURL(/\/restore$/);
  const job = page.getByTestId('restore-jobs').locator('tr[data-target="shop-rescued"]');
  await expect(job).toHaveAttribute('data-state', 'Succeeded', { timeout: 30_000 });
  await expect(job.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  await expect(job).toContainText('Restored 1 database(s), 1 container(s), 1 item(s)');

  // The new account holds the item as it was, and not the later one.
  await page.goto(subUrl);
  await page.getByTestId('accounts').getByRole('link', { name: 'shop-rescued' }).click();
  await expect(page.getByTestId('restored-from')).toContainText('shop-live');
  await hydrated(page);
  await page.getByRole('link', { name: 'Data explorer' }).click();
  await hydrated(page);
  await page.getByTestId('tree').getByRole('button', { name: 'orders' }).click();
  await expect(page.getByTestId('items').getByRole('button', { name: 'o-1' })).toBeVisible();
  await expect(page.getByTestId('items').getByRole('button', { name: 'o-late' })).toHaveCount(0);
});

test('a deleted container is restored in place from the account event feed', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await createSubscription(page, 'Undo Sub');
  await page.getByRole('link', { name: 'Undo Sub', exact: true }).click();
  await hydrated(page);
  const subId = page.url().split('/').pop()!;
  await createAccount(page, 'undo-acct', 'Continuous7Days');
  await hydrated(page);
  const accountUrl = page.url();
  const api = (f: string, form: Record<string, string>) => page.request.post(`/api/${f}`, { form });
  const base = { subscription_id: subId, name: 'undo-acct', database: 'app' };
  expect((await api('explorer_create_database', { ...base })).status()).toBe(200);
  expect((await api('explorer_create_container', { ...base, container: 'users', partition_key: '/id', throughput: '400' })).status()).toBe(200);
  expect((await api('explorer_save_item', { ...base, container: 'users', json: '{ "id": "ada", "role": "admin" }', original_pk: '', original_id: '' })).status()).toBe(200);
  await page.waitForTimeout(1500);
  // Oops.
  expect((await api('explorer_delete_container', { ...base, container: 'users' })).status()).toBe(200);
  await page.waitForTimeout(2500);

  await page.goto(accountUrl);
  await hydrated(page);
  await page.getByRole('link', { name: 'Restore to a point in time' }).click();
  await hydrated(page);
  const deletion = page.getByTestId('resource-events').locator('tr[data-resource="app/users"][data-kind="Delete"]');
  await expect(deletion).toBeVisible();
  await deletion.getByRole('button', { name: 'Restore in place' }).click();

  await expect(page).toHaveURL(/\/restore$/);
  const job = page.getByTestId('restore-jobs').locator('tr[data-target="undo-acct"]');
  await expect(job).toHaveAttribute('data-state', 'Succeeded', { timeout: 30_000 });

  await page.goto(`${accountUrl}/explorer`);
  await hydrated(page);
  await page.getByTestId('tree').getByRole('button', { name: 'users' }).click();
  await expect(page.getByTestId('items').getByRole('button', { name: 'ada' })).toBeVisible();
});

test('a periodic backup is restored by request once approved', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await createSubscription(page, 'Periodic Sub');
  await page.getByRole('link', { name: 'Periodic Sub', exact: true }).click();
  await hydrated(page);
  const subUrl = page.url();
  await createAccount(page, 'nightly');

  // The first full backup is taken within seconds of the account's creation.
  await page.goto(subUrl);
  await hydrated(page);
  await page.getByRole('link', { name: 'Restore', exact: true }).click();
  await hydrated(page);
  const entry = page.getByTestId('restorable-accounts').locator('tr[data-account="nightly"]');
  await expect(entry).toContainText('Periodic');
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('restorable-accounts').locator('tr[data-account="nightly"]').getByRole('link', { name: 'Request restore…' })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);
  await page.getByTestId('restorable-accounts').locator('tr[data-account="nightly"]').getByRole('link', { name: 'Request restore…' }).click();
  await expect(page.getByRole('heading', { name: 'Request a restore of nightly' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Request restore' }).click();

  await expect(page).toHaveURL(/\/restore$/);
  const job = page.getByTestId('restore-jobs').locator('tr[data-target="nightly-restored1"]');
  await expect(job).toHaveAttribute('data-state', 'AwaitingApproval');
  // The requester (here an Owner) may not approve their own request: somebody else must.
  await expect(job.getByRole('button', { name: 'Approve' })).toHaveCount(0);
  await createUser(page, 'sup');
  await page.goto(`${subUrl}/access`);
  await hydrated(page);
  await assign(page, 'sup', 'Support');
  await signInFirstTime(page, 'sup');
  await page.goto(`${subUrl}/restore`);
  await hydrated(page);
  await job.getByLabel('Reason').fill('ticket 7');
  await job.getByRole('button', { name: 'Approve' }).click();
  await expect(job).toHaveAttribute('data-state', 'Succeeded', { timeout: 30_000 });
  await expect(job).toContainText('Restored 0 database(s)');
});
