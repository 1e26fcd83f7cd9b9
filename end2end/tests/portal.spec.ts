// The foundation's story in a real browser: sign in, create a subscription and an account, see
// its keys, delete it, sign out; and a wrong password is refused.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { createAccount, createSubscription, hydrated, signIn } from './fixtures/portal';

test('a signed-out visitor is sent to the sign-in page', async ({ page }) => {
  await page.goto('/subscriptions');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Rewind' })).toBeVisible();
});

test('a wrong password is refused without saying whether the user exists', async ({ page }) => {
  await signIn(page, ADMIN_USER, 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('wrong user name or password');
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, 'nobody-by-this-name', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('wrong user name or password');
});

test('the admin creates a subscription and an account, sees its keys, deletes it and signs out', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await expect(page.getByTestId('user-name')).toHaveText(ADMIN_USER);

  await createSubscription(page, 'E2E Production');
  await page.getByRole('link', { name: 'E2E Production', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'E2E Production' })).toBeVisible();
  await hydrated(page);

  // The form explains a bad name before it is sent.
  await page.getByRole('link', { name: 'Create account' }).click();
  await page.getByLabel('Account name').fill('Bad_Name');
  await expect(page.getByText('account name may contain only lowercase letters')).toBeVisible();
  await page.goBack();

  await createAccount(page, 'orders-e2e', 'Continuous7Days');
  await expect(page.getByTestId('backup-policy')).toContainText('Continuous7Days');
  await expect(page.getByTestId('endpoint')).toContainText('/cosmos/orders-e2e/');

  // Keys stay hidden until asked for.
  await expect(page.getByTestId('keys')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show keys' }).click();
  const keys = page.getByTestId('keys');
  await expect(keys).toBeVisible();
  await expect(keys.locator('code')).toHaveCount(4);
  expect((await keys.locator('code').first().innerText()).length).toBe(88);

  // A duplicate name is refused with a clear message.
  await page.getByRole('link', { name: 'Subscription', exact: true }).click();
  await createAccountExpectingError(page, 'orders-e2e', 'already exists');

  // The account is listed, then deleted with a typed confirmation.
  await page.getByRole('link', { name: 'Subscription', exact: true }).click();
  await expect(page.getByTestId('accounts').getByRole('link', { name: 'orders-e2e' })).toBeVisible();
  await page.getByTestId('accounts').getByRole('link', { name: 'orders-e2e' }).click();
  await page.getByText('Delete this account…').click();
  const del = page.getByRole('button', { name: 'Delete account' });
  await expect(del).toBeDisabled();
  await page.getByLabel('Confirm account name').fill('orders-e2e');
  await del.click();
  await expect(page.getByRole('heading', { name: 'E2E Production' })).toBeVisible();
  await expect(page.getByText('No accounts in this subscription yet.')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/subscriptions');
  await expect(page).toHaveURL(/\/login$/);
});

async function createAccountExpectingError(page: import('@playwright/test').Page, name: string, message: string) {
  await page.getByRole('link', { name: 'Create account' }).click();
  await page.getByLabel('Account name').fill(name);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText(message);
}

test('a user makes an API token, sees its secret once, uses it, and revokes it', async ({ page, request }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'API tokens' }).click();
  await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Name').fill('e2e-script');
  await page.getByLabel('Expires after (days; 0 = never)').fill('7');
  await page.getByRole('button', { name: 'Make token' }).click();
  const secret = (await page.getByTestId('token-secret').innerText()).trim();
  expect(secret).toMatch(/^rwd_/);
  await expect(page.getByTestId('tokens')).toContainText('e2e-script');

  // The token works on the REST API, and its reference page is linked.
  const tokens = await request.get('/api/v1/tokens', { headers: { Authorization: `Bearer ${secret}` } });
  expect(tokens.status()).toBe(200);
  expect(JSON.stringify(await tokens.json())).not.toContain(secret);
  await expect(page.getByRole('link', { name: 'reference' })).toHaveAttribute('href', '/api/docs');

  // Shown once: after a reload only the name is left; revoked, it stops working.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('token-secret')).toHaveCount(0);
  await page.getByTestId('tokens').getByRole('row', { name: /e2e-script/ }).getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId('tokens')).not.toContainText('e2e-script');
  const after = await request.get('/api/v1/tokens', { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);
});
