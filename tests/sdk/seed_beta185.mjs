// The seed-era README's calls, unchanged, through @openmeter/sdk@1.0.0-beta.185 against a live meterd.
// Usage: node seed_beta185.mjs BASE_URL TOKEN PHASE (a: up to the entitlement; b: usage, grants, resets, deletes)
// Prints one JSON object: step name -> {ok, value} or {ok: false, status, problem}. The test asserts the values.
import { OpenMeter } from 'openmeter-sdk-beta185'
import { request } from 'undici'

const [baseUrl, token, phase] = process.argv.slice(2)
const openmeter = new OpenMeter({ baseUrl, token })
const results = {}

// A call without the SDK (its transport, undici), failing as the SDK does: {statusCode, problem}.
async function raw(path, bearer) {
  const resp = await request(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${bearer}` } })
  const body = await resp.body.json()
  if (resp.statusCode > 399) {
    throw Object.assign(new Error(`HTTP ${resp.statusCode} ${resp.headers['content-type']}`),
      { statusCode: resp.statusCode, problem: body })
  }
  return { status: resp.statusCode, contentType: resp.headers['content-type'], body }
}

async function step(name, call) {
  try {
    const value = await call()
    results[name] = { ok: true, value: value === undefined ? null : value }
  } catch (err) {
    results[name] = { ok: false, status: err.statusCode ?? null, problem: err.problem ?? null, message: String(err) }
  }
}

if (phase === 'a') {
  // Ingesting an event (the README's shape), then a batch.
  const event = {
    specversion: '1.0', id: 'id-1', source: 'my-app', type: 'my-type', subject: 'my-awesome-user-id',
    time: new Date(), data: { api_calls: 1 },
  }
  await step('events.ingest', () => openmeter.events.ingest(event))
  const hour = new Date(process.env.SEED_HOUR)
  await step('events.ingest(batch)', () => openmeter.events.ingest([
    { specversion: '1.0', id: 'seed-2', source: 'my-app', type: 'prompt', subject: 'customer-1', time: hour,
      data: { tokens: 1200, model: 'gpt-4o' } },
    { specversion: '1.0', id: 'seed-3', source: 'my-app', type: 'prompt', subject: 'customer-1', time: hour,
      data: { tokens: 300, model: 'llama' } },
  ]))
  await step('events.list', () => openmeter.events.list())
  await step('meters.list', () => openmeter.meters.list())
  await step('meters.get(m1)', () => openmeter.meters.get('m1'))
  await step('meters.get', () => openmeter.meters.get('tokens_total'))
  await step('meters.query', () => openmeter.meters.query('tokens_total', {
    subject: ['customer-1'], groupBy: ['model'], from: hour, to: new Date(hour.getTime() + 3600_000),
    windowSize: 'HOUR',
  }))
  await step('meters.query(filterGroupBy)', () => openmeter.meters.query('tokens_total', {
    filterGroupBy: { model: 'gpt-4o' }, windowSize: 'DAY', windowTimeZone: 'Europe/Budapest',
  }))
  await step('meters.subjects', () => openmeter.meters.subjects('tokens_total'))
  await step('portal.createToken', () => openmeter.portal.createToken({ subject: 'customer-1' }))
  await step('portal.createToken(allowed)', () => openmeter.portal.createToken({
    subject: 'customer-1', allowedMeterSlugs: ['tokens_total'],
  }))
  // The portal token on its own route (the SDK's transport, undici, as a browser page would call it).
  const portalToken = results['portal.createToken(allowed)'].value?.token
  await step('portal query', () => raw('/api/v1/portal/meters/tokens_total/query?windowSize=DAY', portalToken))
  await step('portal token on an admin route', () => new OpenMeter({ baseUrl, token: portalToken }).meters.list())
  await step('portal.invalidateTokens(subject)', () => openmeter.portal.invalidateTokens({ subject: 'customer-1' }))
  await step('portal query after invalidate', () => raw('/api/v1/portal/meters/tokens_total/query', portalToken))
  await step('portal.invalidateTokens', () => openmeter.portal.invalidateTokens())
  await step('subjects.upsert', () => openmeter.subjects.upsert([{ key: 'customer-1', displayName: 'ACME' }]))
  await step('subjects.list', () => openmeter.subjects.list())
  await step('subjects.get', () => openmeter.subjects.get('customer-1'))
  await step('features.create', () => openmeter.features.create({
    key: 'ai_tokens', name: 'AI Tokens', meterSlug: 'tokens_total',
  }))
  await step('features.list', () => openmeter.features.list())
  await step('features.get', () => openmeter.features.get('ai_tokens'))
  // Issue 10,000,000 tokens every month
  await step('subjects.createEntitlement', () => openmeter.subjects.createEntitlement('customer-1', {
    type: 'metered', featureKey: 'ai_tokens', usagePeriod: { interval: 'MONTH' }, issueAfterReset: 10000000,
  }))
  await step('subjects.createEntitlement(again)', () => openmeter.subjects.createEntitlement('customer-1', {
    type: 'metered', featureKey: 'ai_tokens', usagePeriod: { interval: 'MONTH' }, issueAfterReset: 10000000,
  }))
} else {
  await step('events.ingest(usage)', () => openmeter.events.ingest({
    specversion: '1.0', id: 'usage-1', source: 'my-app', type: 'prompt', subject: 'customer-1',
    time: new Date(process.env.USAGE_TIME), data: { tokens: 2500, model: 'gpt-4o' },
  }))
  await step('subjects.listEntitlements', () => openmeter.subjects.listEntitlements('customer-1'))
  await step('subjects.getEntitlement', () => openmeter.subjects.getEntitlement('customer-1', 'ai_tokens'))
  await step('subjects.getEntitlementValue', () => openmeter.subjects.getEntitlementValue('customer-1', 'ai_tokens'))
  await step('subjects.getEntitlementValueAt', () => openmeter.subjects.getEntitlementValueAt(
    'customer-1', 'ai_tokens', new Date(process.env.BEFORE_USAGE),
  ))
  await step('subjects.getEntitlementHistory', () => openmeter.subjects.getEntitlementHistory('customer-1', 'ai_tokens'))
  await step('subjects.getEntitlementHistory(DAY)', () => openmeter.subjects.getEntitlementHistory(
    'customer-1', 'ai_tokens', { windowSize: 'DAY' },
  ))
  // The README's grant, as written (effective in 2023: before the usage period, refused as OpenMeter does)...
  await step('subjects.createEntitlementGrant(README)', () => openmeter.subjects.createEntitlementGrant('customer-1', 'ai_tokens', {
    amount: 100, priority: 1, effectiveAt: '2023-01-01T00:00:00Z', expiration: { duration: 'HOUR', count: 12 },
    minRolloverAmount: 100, maxRolloverAmount: 100,
    recurrence: { interval: 'MONTH', anchor: '2024-06-28T18:29:44.867Z' },
  }))
  // ... and the same grant effective from the entitlement's start, which burns first (priority 0 < 1).
  const entitlement = results['subjects.getEntitlement'].value
  await step('subjects.createEntitlementGrant', () => openmeter.subjects.createEntitlementGrant('customer-1', 'ai_tokens', {
    amount: 100, priority: 0, effectiveAt: entitlement.measureUsageFrom, expiration: { duration: 'HOUR', count: 12 },
    minRolloverAmount: 100, maxRolloverAmount: 100,
    recurrence: { interval: 'MONTH', anchor: '2024-06-28T18:29:44.867Z' },
  }))
  await step('subjects.getEntitlementValue(after grant)', () => openmeter.subjects.getEntitlementValue('customer-1', 'ai_tokens'))
  await step('subjects.listEntitlementGrants', () => openmeter.subjects.listEntitlementGrants('customer-1', 'ai_tokens'))
  await step('grants.list', () => openmeter.grants.list())
  await step('entitlements.list', () => openmeter.entitlements.list())
  await step('entitlements.list(page)', () => openmeter.entitlements.list({ subject: ['customer-1'], page: 1, pageSize: 10 }))
  await step('entitlements.get', () => openmeter.entitlements.get(entitlement.id))
  // The README's reset, as written (beta.185 sends the options object as the id: [object Object])...
  await step('subjects.resetEntitlementUsage(README)', () => openmeter.subjects.resetEntitlementUsage('customer-1', { retainAnchor: true }))
  // ... and with the signature's arguments.
  await step('subjects.resetEntitlementUsage', () => openmeter.subjects.resetEntitlementUsage('customer-1', entitlement.id, { retainAnchor: true }))
  await step('subjects.getEntitlementValue(after reset)', () => openmeter.subjects.getEntitlementValue('customer-1', 'ai_tokens'))
  const grantId = results['subjects.createEntitlementGrant'].value?.id
  await step('grants.delete', () => openmeter.grants.delete(grantId))
  await step('subjects.overrideEntitlement', () => openmeter.subjects.overrideEntitlement('customer-1', 'ai_tokens', {
    type: 'metered', featureKey: 'ai_tokens', usagePeriod: { interval: 'WEEK' }, issueAfterReset: 2500,
  }))
  const override = results['subjects.overrideEntitlement'].value
  await step('subjects.deleteEntitlement', () => openmeter.subjects.deleteEntitlement('customer-1', override.id))
  await step('features.delete', () => openmeter.features.delete('ai_tokens'))
  await step('subjects.delete', () => openmeter.subjects.delete('customer-1'))
  await step('subjects.get(deleted)', () => openmeter.subjects.get('customer-1'))
}
process.stdout.write(JSON.stringify(results))
