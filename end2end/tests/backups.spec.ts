// Backups in a real browser: a user holding only Backup Operator on one account opens its backup
// page, changes its periodic policy after reviewing what the change drops, sees storage used drawn,
// verifies the backups now, migrates the account to continuous backup after confirming and sees
// continuous restore points appear — keys and data out of reach; an account made with a
// customer-managed key shows it.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { assign, createAccount, createSubscription, createUser, hydrated, signIn, signInFirstTime } from './fixtures/portal';

test('a Backup Operator changes a periodic policy after reviewing it, verifies, migrates to continuous, and sees storage used', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await createSubscription(page, 'Verify Sub');
  await page.getByRole('link', { name: 'Verify Sub', exact: true }).click();
  await hydrated(page);
  await createAccount(page, 'verified-acct', 'Periodic');
  const accountUrl = page.url();
  await createUser(page, 'bo');
  await page.goto(accountUrl);
  await hydrated(page);
  await page.getByRole('link', { name: 'Access control' }).click();
  await hydrated(page);
  await assign(page, 'bo', 'Backup Operator');

  await signInFirstTime(page, 'bo');
  await page.goto(accountUrl);
  await expect(page.getByTestId('account-overview')).toBeVisible();
  await hydrated(page);
  // Keys and data are out of reach.
  await expect(page.getByRole('button', { name: 'Show keys' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Backups' }).click();
  await expect(page.getByRole('heading', { name: 'Backups of verified-acct' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('backup-mode')).toHaveText('Periodic');
  await expect(page.getByTestId('storage-chart').locator('svg')).toBeVisible();

  // A retention shorter than twice the interval is refused by name; nothing changes.
  const form = page.getByTestId('policy-form');
  await form.getByLabel('Backup interval (hours, 1–24)').fill('6');
  await form.getByRole('button', { name: 'Review change' }).click();
  await expect(form.getByRole('alert')).toContainText('twice the interval');
  await form.getByLabel('Retention (hours, twice the interval to 720)').fill('24');
  await form.getByRole('button', { name: 'Review change' }).click();
  await expect(form.getByTestId('policy-review')).toContainText('every 6 h, kept 24 h');
  await expect(form.getByTestId('policy-drops')).toHaveText('No restore point is dropped.');
  await form.getByRole('button', { name: 'Save change' }).click();
  await expect(page.getByTestId('backup-policy')).toContainText('Periodic: every 6 h, kept 24 h (4 copies)');

  const card = page.getByTestId('verification');
  await expect(card.getByTestId('verification-result')).toContainText('Not verified yet');
  await card.getByLabel('Read every copy (deep)').check();
  await card.getByRole('button', { name: 'Verify now' }).click();
  await expect(card.getByTestId('verification-result')).toContainText('Passed', { timeout: 20_000 });
  await expect(card.getByTestId('verification-result')).toContainText('deep check');
  await expect(card.getByTestId('verification-result')).toContainText('by bo');

  // Migration to continuous backup, behind the typed confirmation; continuous restore points
  // appear once the log after the last periodic backup is shipped (within seconds).
  const migrate = page.getByTestId('migrate');
  await migrate.getByText('Migrate this account to continuous backup…').click();
  await migrate.getByLabel('Continuous tier').selectOption({ label: '7 days' });
  const go = migrate.getByRole('button', { name: 'Migrate to continuous backup' });
  await expect(go).toBeDisabled();
  await migrate.getByLabel('Confirm migration').fill('verified-acct');
  await go.click();
  await expect(page.getByTestId('backup-mode')).toHaveText('Continuous, 7 days');
  await expect(page.getByTestId('migrated-at')).toContainText('from periodic backup');
  await expect(page.getByTestId('migrate')).toHaveCount(0);
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('backup-window')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-/, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId('backup-lag')).toHaveText(/^\d+\.\d s behind$/);
  await expect(page.getByTestId('periodic-points')).toContainText('Restorable by request');

  // Keys and items stay out of reach even asked for directly.
  const subId = accountUrl.match(/subscriptions\/([^/]+)\//)![1];
  const keys = await page.request.post('/api/list_keys', { form: { subscription_id: subId, name: 'verified-acct' } });
  expect(keys.status()).toBe(403);
  const items = await page.request.post('/api/explorer_items', {
    form: { subscription_id: subId, name: 'verified-acct', database: 'd', container: 'c', after: '' },
  });
  expect(items.status()).toBe(403);
  expect(await items.text()).toContain('data/read');
});

test('an account is created with a customer-managed key and shows it', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await createSubscription(page, 'Keys Sub');
  await page.getByRole('link', { name: 'Keys Sub', exact: true }).click();
  await hydrated(page);
  await page.getByRole('link', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/new-account$/);
  await hydrated(page);
  await page.getByLabel('Account name').fill('cmk-acct');
  await page.getByLabel('Backup encryption').selectOption({ label: 'Customer-managed key: acme' });
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'cmk-acct', exact: true })).toBeVisible();
  await expect(page.getByTestId('encryption')).toHaveText('Customer-managed key (acme)');
});
