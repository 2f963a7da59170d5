// The v1 calls of the newest @openmeter/sdk (npm alias openmeter-sdk-latest) against a live meterd.
// Usage: node latest_v1.mjs BASE_URL TOKEN. Prints step name -> {ok, value} or {ok: false, status, ...}.
import { OpenMeter } from 'openmeter-sdk-latest'
import { OpenMeter as PortalClient } from 'openmeter-sdk-latest/portal'

const [baseUrl, apiKey] = process.argv.slice(2)
const openmeter = new OpenMeter({ baseUrl, apiKey })
const results = {}
// Its clients decode RFC 3339 strings into Dates: written back as ISO strings.
const plain = (value) => JSON.parse(JSON.stringify(value ?? null))

async function step(name, call) {
  try {
    results[name] = { ok: true, value: plain(await call()) }
  } catch (err) {
    results[name] = { ok: false, status: err.status ?? null, type: err.type ?? null, title: err.title ?? null,
                      message: String(err) }
  }
}

const hour = new Date(process.env.SEED_HOUR)
// One event (sent as a batch of one: this SDK always uses the batch content type), then a batch.
await step('events.ingest', () => openmeter.events.ingest({
  id: 'v1-1', source: 'my-app', type: 'prompt', subject: 'customer-2', time: hour, data: { tokens: 40, model: 'gpt-4o' },
}))
await step('events.ingest(batch)', () => openmeter.events.ingest([
  { id: 'v1-2', source: 'my-app', type: 'prompt', subject: 'customer-2', time: hour, data: { tokens: 2, model: 'llama' } },
  { id: 'v1-3', source: 'my-app', type: 'prompt', subject: 'customer-3', time: hour, data: { tokens: 8, model: 'llama' } },
]))
await step('events.list', () => openmeter.events.list({ subject: 'customer-2' }))
await step('meters.list', () => openmeter.meters.list())
await step('meters.get', () => openmeter.meters.get('tokens_total'))
await step('meters.get(m1)', () => openmeter.meters.get('m1'))
await step('meters.query', () => openmeter.meters.query('tokens_total', {
  subject: ['customer-2', 'customer-3'], groupBy: ['model'], windowSize: 'HOUR', from: hour,
  to: new Date(hour.getTime() + 3600_000),
}))
await step('subjects.upsert', () => openmeter.subjects.upsert([{ key: 'customer-2', displayName: 'Initech' }]))
await step('subjects.get', () => openmeter.subjects.get('customer-2'))
await step('subjects.list', () => openmeter.subjects.list())
await step('features.create', () => openmeter.features.create({ key: 'v1_tokens', name: 'V1 tokens', meterSlug: 'tokens_total' }))
await step('features.get', () => openmeter.features.get('v1_tokens'))
await step('features.list', () => openmeter.features.list())
await step('entitlementsV1.create', () => openmeter.entitlementsV1.create('customer-2', {
  type: 'metered', featureKey: 'v1_tokens', usagePeriod: { interval: 'DAY' }, issueAfterReset: 1000,
}))
await step('entitlementsV1.value', () => openmeter.entitlementsV1.value('customer-2', 'v1_tokens'))
await step('entitlementsV1.list', () => openmeter.entitlementsV1.list())

await step('portal.create', () => openmeter.portal.create({ subject: 'customer-2', allowedMeterSlugs: ['tokens_total'] }))
const portalToken = results['portal.create'].value?.token
await step('portal.query', () => new PortalClient({ baseUrl, portalToken }).query('tokens_total', { windowSize: 'DAY' }))
await step('portal.invalidate', () => openmeter.portal.invalidate({ subject: 'customer-2' }))
await step('portal.query(invalidated)', () => new PortalClient({ baseUrl, portalToken }).query('tokens_total'))
await step('features.delete(in use)', () => openmeter.features.delete('v1_tokens'))
await step('subjects.delete', () => openmeter.subjects.delete('customer-2'))

process.stdout.write(JSON.stringify(results))
