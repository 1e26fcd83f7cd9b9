// The data explorer in a real browser: create a database and a container, add an item, edit
// it, and find it with a query.
import { expect, test } from '@playwright/test';
import { ADMIN_PASSWORD, ADMIN_USER } from '../playwright.config';
import { createAccount, createSubscription, hydrated, signIn } from './fixtures/portal';

test('a container and an item are created in the data explorer and found with a query', async ({ page }) => {
  await signIn(page, ADMIN_USER, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/subscriptions$/);
  await createSubscription(page, 'Explorer Sub');
  await page.getByRole('link', { name: 'Explorer Sub', exact: true }).click();
  await hydrated(page);
  await createAccount(page, 'explorer-acct');
  await hydrated(page);
  await page.getByRole('link', { name: 'Data explorer' }).click();
  await expect(page.getByRole('heading', { name: 'Data explorer' })).toBeVisible();
  await hydrated(page);

  await page.getByLabel('Database id').fill('shop');
  await page.getByRole('button', { name: 'Create database' }).click();
  await expect(page.getByTestId('tree').getByText('shop', { exact: true })).toBeVisible();
  await page.getByLabel('In database').fill('shop');
  await page.getByLabel('Container id').fill('orders');
  await page.getByLabel('Partition key').fill('/tenant');
  await page.getByRole('button', { name: 'Create container' }).click();
  await page.getByTestId('tree').getByRole('button', { name: 'orders' }).click();
  await expect(page.getByRole('heading', { name: 'shop / orders' })).toBeVisible();

  await page.getByRole('button', { name: 'New item' }).click();
  const editor = page.getByLabel('Item JSON');
  await editor.fill('{ "id": "o-1", "tenant": "acme", "total": 42');
  await expect(page.getByText('not valid JSON')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save item' })).toBeDisabled();
  await editor.fill('{ "id": "o-1", "tenant": "acme", "total": 42 }');
  await page.getByRole('button', { name: 'Save item' }).click();
  await expect(page.getByTestId('items').getByRole('button', { name: 'o-1' })).toBeVisible();
  await expect(editor).toHaveValue(/"_etag"/);

  await page.getByLabel('Query').fill('SELECT VALUE c.total FROM c WHERE c.tenant = "acme"');
  await page.getByRole('button', { name: 'Run query' }).click();
  await expect(page.getByTestId('query-stats')).toContainText('1 results');
  await expect(page.getByTestId('query-results')).toContainText('42');
});
