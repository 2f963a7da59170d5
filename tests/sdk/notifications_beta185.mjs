// OpenMeter's notification client (openmeter.notification.channels|rules|events) of @openmeter/sdk@1.0.0-beta.185,
// unchanged, against a live meterd. Usage: node notifications_beta185.mjs BASE_URL TOKEN PHASE RECEIVER_URL
// Phase a: a channel and a rule (the SDK's own examples); phase b (after a crossing): events, gets, lists,
// deletes. Prints one JSON object: step name -> {ok, value} or {ok: false, status, problem}.
import { OpenMeter } from 'openmeter-sdk-beta185'

const [baseUrl, token, phase, receiverUrl] = process.argv.slice(2)
const openmeter = new OpenMeter({ baseUrl, token })
const results = {}

async function step(name, call) {
  try {
    const value = await call()
    results[name] = { ok: true, value: value === undefined ? null : value }
  } catch (err) {
    results[name] = { ok: false, status: err.statusCode ?? null, problem: err.problem ?? null, message: String(err) }
  }
}

if (phase === 'a') {
  await step('channels.create', () => openmeter.notification.channels.create({
    type: 'WEBHOOK', name: 'My webhook channel', url: receiverUrl, customHeaders: { 'User-Agent': 'OpenMeter' },
  }))
  const channel = results['channels.create'].value
  await step('rules.create', () => openmeter.notification.rules.create({
    type: 'entitlements.balance.threshold', name: 'My rule', channels: [channel.id],
    thresholds: [{ value: 90, type: 'PERCENT' }],
  }))
  await step('channels.create(bad url)', () => openmeter.notification.channels.create({
    type: 'WEBHOOK', name: 'bad', url: 'ftp://example.com/x',
  }))
} else {
  const events = await openmeter.notification.events.list()
  results['events.list'] = { ok: true, value: events }
  const event = events.items[0]
  await step('events.get', () => openmeter.notification.events.get(event.id))
  await step('events.list(filtered)', () => openmeter.notification.events.list({
    subject: ['customer-1'], feature: ['ai_tokens'], rule: [event.rule.id], page: 1, pageSize: 10,
  }))
  await step('channels.list', () => openmeter.notification.channels.list())
  await step('channels.get', () => openmeter.notification.channels.get(event.deliveryStatus[0].channel.id))
  await step('rules.list', () => openmeter.notification.rules.list({ includeDisabled: true }))
  await step('rules.get', () => openmeter.notification.rules.get(event.rule.id))
  await step('rules.delete', () => openmeter.notification.rules.delete(event.rule.id))
  await step('rules.get(deleted)', () => openmeter.notification.rules.list())
  await step('channels.delete', () => openmeter.notification.channels.delete(event.deliveryStatus[0].channel.id))
  await step('events.get(unknown)', () => openmeter.notification.events.get('nope'))
}
console.log(JSON.stringify(results))
