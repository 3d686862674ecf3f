// Start a local Bluesky network (PLC, PDS, AppView, plus the bsync and ozone services
// that @atproto/dev-env's TestNetwork always starts) for Momento's tests.
//
// Run with Node 22 and the cache folder made by install.sh as working directory:
//   cd ~/.cache/momento/peers/app && \
//     DB_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/momento_bsky_x \
//     REDIS_HOST=127.0.0.1:6379 ../node/bin/node /path/to/bsky_network.mjs
//
// Environment:
//   DB_POSTGRES_URL      PostgreSQL URL of a database for this network only (required)
//   REDIS_HOST           host:port of Redis (required)
//   DB_POSTGRES_SCHEMA   suffix of the schemas created in that database (default "momento")
//   BSKY_PDS_RATE_LIMITS "1" turns on the PDS's rate limits (rateLimitsEnabled)
//   BSKY_PROCESS_INTERVAL_MS  how often processAll() runs (default 1000)
//   MOMENTO_PEERS_APP_DIR  folder holding node_modules (default: the working directory)
//   LOG_ENABLED / LOG_LEVEL  dev-env's own logging; it goes to stderr
//
// Prints exactly one JSON line on stdout when ready:
//   {"pds": "http://127.0.0.1:P", "appview": "http://127.0.0.1:P", "plc": "http://127.0.0.1:P", ...}
// then runs network.processAll() about every second so the AppView indexes what the PDS
// got (notifications, posts, follows). SIGTERM, SIGINT or the end of stdin closes the
// network and exits 0. Optional commands on stdin (one JSON object a line) force a
// processAll() now: {"cmd":"process","id":1} is answered by {"id":1,"ok":true} on stdout
// once it has finished; a caller that sends no command sees only the ready line.
//
// Every server listens on 127.0.0.1 only: none of dev-env, pds, bsky, bsync, ozone or
// the PLC server accepts a host (they call app.listen(port)), so net.Server#listen is
// wrapped below to add host 127.0.0.1 whenever a caller gives none.

import dns from 'node:dns'
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'

const LOOPBACK = '127.0.0.1'

// --- 1. bind every server to loopback -------------------------------------------
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0]
  if (first === undefined || first === null || typeof first === 'function') {
    // listen() / listen(cb): a random port on every interface
    args = [0, LOOPBACK, ...args.filter((a) => typeof a === 'function')]
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb])
    if (typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK)
  } else if (typeof first === 'object' && !first.host && first.path === undefined &&
             first.fd === undefined && first.handle === undefined && first._handle === undefined) {
    // listen({ port, ... }); unix sockets and inherited handles are left alone
    args[0] = { ...first, host: LOOPBACK }
  }
  return originalListen.apply(this, args)
}

// dev-env's URLs say "localhost"; make sure that means 127.0.0.1 for clients here.
dns.setDefaultResultOrder('ipv4first')

// --- 2. keep stdout for the one JSON line ----------------------------------------
console.log = console.error
console.info = console.error
if (/^(true|t|1)$/i.test(process.env.LOG_ENABLED ?? '') && !process.env.LOG_DESTINATION) {
  process.env.LOG_DESTINATION = '/dev/stderr'
}

const fail = (msg, err) => {
  process.stderr.write(`bsky_network: ${msg}${err ? `: ${err?.stack ?? err}` : ''}\n`)
  process.exit(1)
}

if (!process.env.DB_POSTGRES_URL) fail('DB_POSTGRES_URL is not set')
if (!process.env.REDIS_HOST) fail('REDIS_HOST is not set')

// --- 3. stop on SIGTERM, SIGINT or the end of stdin (registered before the slow import) ---
let network
let stopping = false
let loopDone = Promise.resolve()

const shutdown = async (why) => {
  if (stopping) return
  stopping = true
  process.stderr.write(`bsky_network: closing (${why})\n`)
  const hardExit = setTimeout(() => {
    process.stderr.write('bsky_network: close timed out, exiting\n')
    process.exit(0)
  }, 20_000)
  hardExit.unref()
  try {
    // Still starting: nothing to close politely, exiting ends every server.
    await loopDone
    if (network) await network.close()
  } catch (err) {
    process.stderr.write(`bsky_network: error while closing: ${err?.stack ?? err}\n`)
  }
  process.exit(0)
}

process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.stdin.on('error', () => shutdown('stdin error'))
const commands = readline.createInterface({ input: process.stdin, terminal: false })
commands.on('close', () => shutdown('stdin closed'))

const appDir = process.env.MOMENTO_PEERS_APP_DIR || process.cwd()
const requireFromApp = createRequire(path.join(appDir, 'package.json'))
let devEnv
try {
  devEnv = await import(pathToFileURL(requireFromApp.resolve('@atproto/dev-env')).href)
} catch (err) {
  fail(`cannot load @atproto/dev-env from ${appDir} (run scripts/peers/install.sh)`, err)
}

// --- 4. start ---------------------------------------------------------------------
const rateLimits = /^(1|true|yes|on)$/i.test(process.env.BSKY_PDS_RATE_LIMITS ?? '')
const intervalMs = Number(process.env.BSKY_PROCESS_INTERVAL_MS || 1000)
const loopbackUrl = (port) => `http://${LOOPBACK}:${port}`

const started = Date.now()
try {
  network = await devEnv.TestNetwork.create({
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'momento',
    pds: {
      rateLimitsEnabled: rateLimits,
      enableDidDocWithSession: true,
    },
  })
} catch (err) {
  fail('TestNetwork.create failed', err)
}

process.stdout.write(
  JSON.stringify({
    pds: loopbackUrl(network.pds.port),
    appview: loopbackUrl(network.bsky.port),
    plc: loopbackUrl(network.plc.port),
    ozone: loopbackUrl(network.ozone.port),
    bsync: loopbackUrl(network.bsync.port),
    pds_did: network.pds.ctx.cfg.service.did,
    appview_did: network.bsky.ctx.cfg.serverDid,
    admin_password: 'admin-pass',
    rate_limits: rateLimits,
    startup_ms: Date.now() - started,
    pid: process.pid,
  }) + '\n',
)

// --- 5. index continuously ------------------------------------------------------------
// processAll() runs are serialized: the timer loop and "process" commands share one chain.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let chain = Promise.resolve()
const processOnce = () => {
  const run = chain.then(() => network.processAll())
  chain = run.catch(() => {})
  return run
}

loopDone = (async () => {
  while (!stopping) {
    try {
      await processOnce()
    } catch (err) {
      if (!stopping) process.stderr.write(`bsky_network: processAll: ${err?.message ?? err}\n`)
    }
    if (!stopping) await sleep(intervalMs)
  }
})()

// Commands on stdin, one JSON object a line. Each gets exactly one JSON line back:
//   {"cmd": "process", "id": 7}  ->  {"id": 7, "ok": true}   (after a full processAll())
//   {"cmd": "ping", "id": 8}     ->  {"id": 8, "ok": true}
// Nothing else is ever written to stdout after the ready line.
commands.on('line', async (line) => {
  if (!line.trim() || stopping) return
  let msg
  try {
    msg = JSON.parse(line)
  } catch {
    process.stderr.write(`bsky_network: ignoring bad command ${JSON.stringify(line)}\n`)
    return
  }
  const reply = (extra) => process.stdout.write(JSON.stringify({ id: msg.id ?? null, ...extra }) + '\n')
  if (msg.cmd === 'ping') return reply({ ok: true })
  if (msg.cmd === 'process') {
    try {
      await processOnce()
      reply({ ok: true })
    } catch (err) {
      reply({ ok: false, error: String(err?.message ?? err) })
    }
    return
  }
  reply({ ok: false, error: `unknown command ${msg.cmd}` })
})
