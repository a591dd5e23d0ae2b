// The operations page, driven in headless Chromium (see run.sh for the set-up).
//
// 1. A signed Magento webhook brings order 000900077, one of whose SKUs SAP B1 does not know.
// 2. An admin opens the page, is sent to the login form, signs in with an API token.
// 3. The queue shows the unknown_sku exception, naming the order and the SKU.
// 4. The admin follows "Map SKU …", saves the mapping to the SAP item.
// 5. Back in the queue, retries the exception with a note.
// 6. The order page shows the order posted (with its SAP DocNum) and the exception resolved.
// Screenshots of each step are saved; any failed expectation exits non-zero.
import { createHmac } from 'node:crypto';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(process.env.B1BRIDGE_TEST_NODE_PROJECT);
const { chromium } = require('playwright-core');

const base = process.env.B1BRIDGE_TEST_URL;
const token = process.env.B1BRIDGE_TEST_ADMIN;
const shots = process.env.B1BRIDGE_TEST_SCREENSHOTS;
mkdirSync(shots, { recursive: true });

const ORDER = '000900077';
const SKU = 'WP13-28-Teal';
const ITEM = 'WP13-28-Blue';

async function waitForServer() {
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${base}/readyz never answered 200`);
}

// Standard Webhooks v1: HMAC-SHA256 over "id.timestamp.body" with the secret's base64 key.
async function sendSignedOrder() {
  const order = JSON.parse(readFileSync(process.env.B1BRIDGE_TEST_SAMPLE, 'utf8'));
  order.increment_id = ORDER;
  for (const line of order.items) if (line.sku === ITEM) line.sku = SKU;
  const body = JSON.stringify({ type: 'order.placed', timestamp: new Date().toISOString(), data: { order } });
  const id = `msg_ui_browser_${Date.now()}`;
  const ts = Math.floor(Date.now() / 1000).toString();
  const key = Buffer.from(process.env.B1BRIDGE_TEST_WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const res = await fetch(`${base}/webhooks/magento`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` },
    body,
  });
  assert.equal(res.status, 202, `the webhook is accepted: ${await res.text()}`);
}

// Reloads until `check` passes (the workers run in the background).
async function eventually(page, what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      await page.screenshot({ path: `${shots}/failed.png`, fullPage: true });
      throw new Error(`timed out waiting for: ${what}`);
    }
    await page.waitForTimeout(300);
    await page.reload();
  }
}

await waitForServer();
await sendSignedOrder();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });

  // Not signed in: the page sends the browser to the login form.
  await page.goto(`${base}/`);
  assert.match(new URL(page.url()).pathname, /^\/ui\/login$/);
  await page.screenshot({ path: `${shots}/01-login.png`, fullPage: true });

  // A wrong token is refused, and says so.
  await page.getByLabel('API token').fill('not-a-token-0123456789');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'unknown or has been revoked' }).waitFor();

  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Exception queue' }).waitFor();
  problems.length = 0; // the refused token's 401 was expected

  // The token is nowhere a script could read it.
  const readable = await page.evaluate(() => ({
    cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage),
  }));
  assert.ok(!readable.cookie.includes('b1b_session'), `session cookie readable by scripts: ${readable.cookie}`);
  for (const v of Object.values(readable)) assert.ok(!v.includes(token), 'the token is readable by scripts');

  // The unknown_sku exception, under merchandising, naming the order and the SKU.
  const row = page.locator('tr', { hasText: ORDER }).filter({ hasText: SKU });
  await eventually(page, 'the unknown_sku exception in the queue', async () => (await row.count()) === 1);
  const merch = page.locator('section.team', { has: page.getByRole('heading', { name: /Merchandising/ }) });
  assert.equal(await merch.locator('tr', { hasText: ORDER }).count(), 1, 'grouped under merchandising');
  assert.match(await row.innerText(), /unknown sku/);
  assert.match(await row.getByRole('link', { name: ORDER, exact: true }).getAttribute('href'), new RegExp(`/ui/orders/${ORDER}$`));
  await page.screenshot({ path: `${shots}/02-queue-unknown-sku.png`, fullPage: true });

  // Filters: another team shows nothing, merchandising shows the row.
  await page.getByLabel('Owner team', { exact: true }).selectOption('finance');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  assert.equal(await page.locator('tr', { hasText: ORDER }).count(), 0, 'the finance filter hides it');
  await page.getByLabel('Owner team', { exact: true }).selectOption('merchandising');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  assert.equal(await page.locator('tr', { hasText: ORDER }).count(), 1, 'the merchandising filter shows it');

  // Fix the mapping, from the exception's own link (the key comes pre-filled).
  await page.getByRole('link', { name: `Map SKU ${SKU} to an SAP item` }).click();
  assert.equal(await page.getByLabel('Magento SKU').inputValue(), SKU);
  await page.getByLabel('SAP ItemCode').fill(ITEM);
  await page.screenshot({ path: `${shots}/03-mapping-form.png`, fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: `Saved ${SKU}` }).waitFor();
  assert.equal(await page.locator('tr', { hasText: SKU }).filter({ hasText: ITEM }).count(), 1, 'the table lists the entry');
  await page.screenshot({ path: `${shots}/04-mapping-saved.png`, fullPage: true });

  // Retry, with a note, from the queue.
  await page.getByRole('link', { name: 'Exception queue' }).click();
  const again = page.locator('tr', { hasText: ORDER }).filter({ hasText: SKU });
  await again.getByLabel('Note').fill(`mapped ${SKU} to ${ITEM}`);
  await again.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('status').filter({ hasText: 'now retrying' }).waitFor();
  await page.screenshot({ path: `${shots}/05-retried.png`, fullPage: true });

  // The order: posted in SAP, its exception resolved, the operator's note in the timeline.
  await page.goto(`${base}/ui/orders/${ORDER}`);
  await eventually(page, 'the order posted', async () => (await page.locator('#order-status').innerText()) === 'posted');
  assert.match(await page.locator('dd', { hasText: 'DocNum' }).innerText(), /DocNum \d+ \(DocEntry \d+\)/);
  const exceptionRow = page.locator('tr', { hasText: SKU });
  assert.equal(await exceptionRow.locator('.badge').innerText(), 'resolved');
  assert.match(await page.locator('ol.timeline').innerText(), /unknown_sku resolved by b1bridge/);
  await page.screenshot({ path: `${shots}/06-order-posted.png`, fullPage: true });

  // The exception's audit trail keeps who retried it and why.
  await exceptionRow.getByRole('link').click();
  assert.match(await page.locator('ul.timeline').innerText(), new RegExp(`retry by ui-admin: “mapped ${SKU} to ${ITEM}”`));
  await page.screenshot({ path: `${shots}/07-exception-detail.png`, fullPage: true });

  // The queue is empty again.
  await page.goto(`${base}/`);
  assert.equal(await page.locator('tr', { hasText: ORDER }).count(), 0, 'the queue no longer lists it');

  // The daily report with its pictures.
  await page.getByRole('link', { name: 'Daily report' }).click();
  await page.getByRole('img', { name: 'Orders per hour (UTC)' }).waitFor();
  assert.match(await page.locator('.card', { hasText: 'Orders on' }).innerText(), /Posted to SAP\s+1/);
  await page.screenshot({ path: `${shots}/08-daily-report.png`, fullPage: true });

  for (const [name, path] of [['mappings', '/ui/mappings/skus'], ['settings', '/ui/settings'], ['orders', '/ui/orders']]) {
    await page.goto(`${base}${path}`);
    await page.screenshot({ path: `${shots}/09-${name}.png`, fullPage: true });
  }

  // Signing out ends the session: the page asks for the token again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.goto(`${base}/`);
  assert.match(new URL(page.url()).pathname, /^\/ui\/login$/);

  assert.deepEqual(problems, [], 'no errors in the browser console');
} finally {
  await browser.close();
}
console.log('ops page: login, unknown_sku, mapping, retry, posted — all seen in the browser');
