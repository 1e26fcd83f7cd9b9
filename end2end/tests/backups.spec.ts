// Backups in a real browser: a user holding only Backup Operator on one account verifies its
// backups now and sees the result, keys out of reach; an account made with a customer-managed key
// shows it.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { assign, createAccount, createSubscription, createUser, hydrated, signIn, signInFirstTime } from './fixtures/portal';

test('a Backup Operator verifies an account\'s backups from its page', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await createSubscription(page, 'Verify Sub');
  await page.getByRole('link', { name: 'Verify Sub', exact: true }).click();
  await hydrated(page);
  await createAccount(page, 'verified-acct', 'Continuous7Days');
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
  const card = page.getByTestId('verification');
  await expect(card.getByTestId('verification-result')).toContainText('Not verified yet');
  await expect(page.getByRole('button', { name: 'Show keys' })).toHaveCount(0);

  await card.getByLabel('Read every copy (deep)').check();
  await card.getByRole('button', { name: 'Verify now' }).click();
  await expect(card.getByTestId('verification-result')).toContainText('Passed', { timeout: 20_000 });
  await expect(card.getByTestId('verification-result')).toContainText('deep check');
  await expect(card.getByTestId('verification-result')).toContainText('by bo');
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
