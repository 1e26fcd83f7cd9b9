// Playwright drives Debian's Chromium (never a downloaded browser) against a real Rewind server
// started on its own port with a fresh data folder.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.REWIND_E2E_PORT ?? 3107);
export const ADMIN_USER = 'e2e-admin';
export const ADMIN_PASSWORD = 'e2e-admin-password-1';

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    },
  },
  webServer: {
    // A customer-managed key the tests may choose, made fresh for each run.
    command:
      'rm -rf end2end/.e2e-data && mkdir -p end2end/.e2e-data/keys && head -c32 /dev/urandom | base64 > end2end/.e2e-data/keys/acme.key && exec target/debug/rewind',
    cwd: '..',
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      REWIND_BIND: `127.0.0.1:${port}`,
      REWIND_DATA_DIR: 'end2end/.e2e-data',
      REWIND_ADMIN_USER: ADMIN_USER,
      REWIND_ADMIN_PASSWORD: ADMIN_PASSWORD,
      REWIND_LOG: 'warn',
      REWIND_CUSTOMER_KEYS_DIR: 'end2end/.e2e-data/keys',
    },
  },
});
