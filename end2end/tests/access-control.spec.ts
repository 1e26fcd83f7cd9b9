// Access control in a real browser: the admin grants narrow roles, each user sees only what
// their role allows, and a forged request is refused and lands in the audit log as denied.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { assign, createAccount, createSubscription, createUser, hydrated, signIn, signInFirstTime } from './fixtures/portal';

test('roles decide what each user sees and may do; forged requests are refused and audited', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await createSubscription(page, 'RBAC Sub');
  await page.getByRole('link', { name: 'RBAC Sub', exact: true }).click();
  await hydrated(page);
  const subUrl = page.url();
  const subId = subUrl.split('/').pop()!;
  // Continuous backup, so the account has restore points for ro to see.
  await createAccount(page, 'rbac-acct', 'Continuous7Days');
  const accountUrl = page.url();

  await createUser(page, 'ro');
  await createUser(page, 'rd');

  // ro: Restore Operator on the one account.
  await page.goto(accountUrl);
  await hydrated(page);
  await page.getByRole('link', { name: 'Access control' }).click();
  await expect(page.getByRole('heading', { name: 'Access control: account rbac-acct' })).toBeVisible();
  await hydrated(page);
  await assign(page, 'ro', 'Restore Operator');
  await expect(page.getByTestId('assignments').getByRole('row', { name: /e2e-admin.*Owner.*inherited/ })).toBeVisible();

  // rd: Reader on the whole subscription.
  await page.goto(`${subUrl}/access`);
  await hydrated(page);
  await assign(page, 'rd', 'Reader');

  // ro sees the account's restore entry, but no key material and no delete.
  await signInFirstTime(page, 'ro');
  await page.goto('/subscriptions');
  await page.getByRole('link', { name: 'RBAC Sub', exact: true }).click();
  await hydrated(page);
  await page.getByRole('link', { name: 'Restore', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Point-in-time restore' })).toBeVisible();
  const entry = page.getByTestId('restorable-accounts').locator('tr[data-account="rbac-acct"]');
  await expect(entry).toBeVisible();
  await expect(entry).toContainText('Continuous7Days');
  await page.goto(subUrl);
  await page.getByTestId('accounts').getByRole('link', { name: 'rbac-acct' }).click();
  await expect(page.getByTestId('account-overview')).toBeVisible();
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Show keys' })).toHaveCount(0);
  await expect(page.getByText('Delete this account…')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);

  // rd sees the accounts, but cannot create, read keys or delete.
  await signInFirstTime(page, 'rd');
  await page.goto(subUrl);
  await hydrated(page);
  await expect(page.getByTestId('accounts').getByRole('link', { name: 'rbac-acct' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Create account' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Restore', exact: true })).toHaveCount(0);
  await page.getByTestId('accounts').getByRole('link', { name: 'rbac-acct' }).click();
  await expect(page.getByTestId('account-overview')).toBeVisible();
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Show keys' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Restore to a point in time' })).toHaveCount(0);
  const accountId = (await page.getByTestId('account-overview').locator('code').last().textContent())!;

  // Forged requests straight at the restore server functions are refused.
  const forgedRestore = await page.request.post('/api/start_restore', {
    form: { subscription_id: subId, source_account_id: accountId, restore_at: new Date().toISOString(), target_name: 'stolen-copy', resources: '' },
  });
  expect(forgedRestore.status()).toBe(403);
  expect(await forgedRestore.text()).toContain('restorableAccounts/restore/action');

  // A forged request straight at the server function is refused.
  const forged = await page.request.post('/api/delete_account', {
    form: { subscription_id: subId, name: 'rbac-acct' },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.text()).toContain('accounts/delete');

  // The admin finds the denied attempt in the audit log.
  await page.context().clearCookies();
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await hydrated(page);
  await page.getByLabel('User').fill('rd');
  await page.getByLabel('Outcome').selectOption('denied');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.getByTestId('audit').getByRole('row', { name: /accounts\/delete/ });
  await expect(row).toBeVisible();
  await expect(row).toContainText('denied');
  const restoreRow = page.getByTestId('audit').getByRole('row', { name: /restorableAccounts\/restore\/action/ });
  await expect(restoreRow).toBeVisible();
  await expect(restoreRow).toContainText('denied');
  await page.getByRole('button', { name: 'Verify the hash chain' }).click();
  await expect(page.getByRole('status')).toContainText('Intact');
});
