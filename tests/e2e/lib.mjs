// Shared helpers for the end-to-end scenarios that drive the real `open-im-sdk` client.
//
// A scenario is an ES module run as
//   node --experimental-websocket SCENARIO.mjs '<config JSON>'
// where the config (written by test_jssdk.py) looks like
//   {"wsUrl": "ws://127.0.0.1:P", "apiUrl": "http://127.0.0.1:Q",
//    "accounts": {"alice": {"userID": "alice", "token": "...", "platformID": 5}, ...},
//    ...scenario-specific keys}
// It calls runScenario(async (ctx) => result). On success the result is printed on stdout as
// one line `RESULT_MARKER + JSON` and the process exits 0; on failure a clear message (and the
// events each client saw) goes to stderr and the process exits 1. Every wait has a timeout and
// the whole scenario has one too, so a scenario can never hang.
//
// A scenario may ask the Python test to act in the middle of it (e.g. restart the server) with
// `await ctx.step('restart')`: it prints `STEP_MARKER + name` on stdout and waits for one line
// on stdin, `ok` or `error <why>`.

import readline from 'node:readline';
import { OpenIMSDK, CbEvents } from 'open-im-sdk';

export { OpenIMSDK, CbEvents };

export const RESULT_MARKER = '@@E2E-RESULT@@ ';
export const STEP_MARKER = '@@E2E-STEP@@ ';
export const DEFAULT_TIMEOUT_MS = Number(process.env.E2E_WAIT_TIMEOUT_MS || 10000);
export const SCENARIO_TIMEOUT_MS = Number(process.env.E2E_SCENARIO_TIMEOUT_MS || 90000);

const ALL_CALLBACK_EVENTS = Object.values(CbEvents);

/** A request the server answered with a non-zero errCode (or that the client rejected). */
export class RequestError extends Error {
  constructor(label, response) {
    const errCode = response?.errCode;
    const errMsg = response?.errMsg;
    super(`${label} was rejected: errCode=${errCode} errMsg=${JSON.stringify(errMsg)}`);
    this.name = 'RequestError';
    this.response = response;
    this.errCode = errCode;
    this.errMsg = errMsg;
  }
}

/** Something did not happen within its time limit. */
export class TimeoutError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** Settle `promise` within `timeoutMs` or throw a TimeoutError naming `label`. */
export function withTimeout(promise, timeoutMs, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`${label}: no answer within ${timeoutMs} ms`)),
      timeoutMs
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Throw an Error with `message` (and the JSON of `details`) unless `condition` holds. */
export function check(condition, message, details) {
  if (!condition) {
    const suffix = details === undefined ? '' : `\n  details: ${brief(details, 2000)}`;
    throw new Error(`check failed: ${message}${suffix}`);
  }
}

/** A short JSON rendering for error messages. */
export function brief(value, max = 300) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** Conversation ID of a single chat: `si_<a>_<b>` with the two user IDs sorted. */
export function singleConversationID(a, b) {
  const [x, y] = [a, b].sort();
  return `si_${x}_${y}`;
}

/**
 * Records every event a source delivers, in order, and lets callers wait for one that matches a
 * predicate. Records are `{index, event, ...fields}`; `index` grows by one per record.
 */
class EventLog {
  constructor(owner) {
    this.owner = owner;
    this.records = [];
    this.waiters = new Set();
  }

  push(record) {
    const entry = { index: this.records.length, ...record };
    this.records.push(entry);
    for (const waiter of [...this.waiters]) {
      if (waiter.matches(entry)) {
        this.waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
    return entry;
  }

  /** Records at or after `since` for which `predicate(record)` holds. */
  filter(predicate, since = 0) {
    return this.records.slice(since).filter(predicate);
  }

  /** The first record at or after `since` matching, waiting up to `timeoutMs` for it. */
  waitFor(predicate, { since = 0, timeoutMs = DEFAULT_TIMEOUT_MS, label = 'event' } = {}) {
    const found = this.records.slice(since).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        matches: entry => entry.index >= since && predicate(entry),
        resolve: entry => {
          clearTimeout(waiter.timer);
          resolve(entry);
        },
      };
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new TimeoutError(
            `${this.owner}: timed out after ${timeoutMs} ms waiting for ${label}; ` +
              `saw: ${this.describe(since)}`
          )
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  describe(since = 0, max = 40) {
    const shown = this.records
      .slice(since)
      .slice(-max)
      .map(r => `#${r.index} ${r.event} ${brief(r.data ?? r.text ?? '', 160)}`);
    return shown.length ? `\n    ${shown.join('\n    ')}` : '(nothing)';
  }
}

/**
 * One `OpenIMSDK` instance logged in (or about to be) as one account. Every callback push is
 * recorded in `this.log` as `{index, event, errCode, errMsg, data}`; a successful login also
 * records a synthetic `@LoginResolved` entry, so order checks can see what arrived before it.
 */
export class Client {
  constructor(name, account, ctx) {
    this.name = name;
    this.userID = account.userID;
    this.token = account.token;
    this.platformID = account.platformID ?? 5;
    this.ctx = ctx;
    this.sdk = new OpenIMSDK();
    this.log = new EventLog(`client ${name} (${this.userID}/${this.platformID})`);
    this.loggedIn = false;
    for (const event of ALL_CALLBACK_EVENTS) {
      this.sdk.on(event, response =>
        this.log.push({
          event,
          errCode: response?.errCode,
          errMsg: response?.errMsg,
          data: response?.data,
        })
      );
    }
  }

  /** Log in; resolves with the Login response, throws RequestError / TimeoutError. */
  async login({ timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    const params = {
      userID: this.userID,
      token: this.token,
      platformID: this.platformID,
      wsAddr: this.ctx.wsUrl,
      apiAddr: this.ctx.apiUrl,
    };
    const label = `${this.name}.login(${this.userID}, platform ${this.platformID})`;
    let response;
    try {
      response = await withTimeout(this.sdk.login(params), timeoutMs, label);
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      throw new RequestError(label, error);
    }
    if (response?.errCode) throw new RequestError(label, response); // e.g. "login repeat"
    this.loggedIn = true;
    this.log.push({ event: '@LoginResolved', data: response?.data });
    return response;
  }

  /**
   * Call an SDK method (`client.call('createTextMessage', 'hi')`) and return the response's
   * parsed `data`. Throws RequestError when the server answers with a non-zero errCode.
   */
  async call(method, ...args) {
    return (await this.request(method, ...args)).data;
  }

  /** Like `call` but returns the whole response `{event, errCode, errMsg, data, operationID}`. */
  async request(method, ...args) {
    const fn = this.sdk[method];
    if (typeof fn !== 'function') throw new Error(`the SDK has no method ${method}`);
    const label = `${this.name}.${method}(${brief(args, 120)})`;
    try {
      return await withTimeout(fn.apply(this.sdk, args), DEFAULT_TIMEOUT_MS, label);
    } catch (error) {
      if (error instanceof TimeoutError) throw error;
      throw new RequestError(label, error);
    }
  }

  /**
   * Call an SDK method that must fail; returns the rejection `{errCode, errMsg, event,
   * operationID}`. Throws if the call succeeds.
   */
  async callExpectingError(method, ...args) {
    let data;
    try {
      data = await this.call(method, ...args);
    } catch (error) {
      if (error instanceof RequestError) {
        const { errCode, errMsg, event, operationID } = error.response ?? {};
        return { errCode, errMsg, event, operationID };
      }
      throw error;
    }
    throw new Error(
      `${this.name}.${method}(${brief(args, 120)}) succeeded but should have been rejected; ` +
        `data: ${brief(data)}`
    );
  }

  /** Wait for a callback `event` whose record satisfies `predicate(record.data, record)`. */
  waitFor(event, predicate = () => true, { since = 0, timeoutMs, label } = {}) {
    return this.log.waitFor(r => r.event === event && predicate(r.data, r), {
      since,
      timeoutMs,
      label: label ?? event,
    });
  }

  /** Records of `event` seen so far (optionally filtered by `predicate(data, record)`). */
  events(event, predicate = () => true, since = 0) {
    return this.log.filter(r => r.event === event && predicate(r.data, r), since);
  }

  /** Index the next record will get: pass as `since` to wait only for later events. */
  mark() {
    return this.log.records.length;
  }

  /** Wait for an `OnRecvNewMessages` push carrying the message `clientMsgID`; returns it. */
  async waitForMessage(clientMsgID, options = {}) {
    const record = await this.waitFor(
      CbEvents.OnRecvNewMessages,
      data => Array.isArray(data) && data.some(m => m?.clientMsgID === clientMsgID),
      { label: `OnRecvNewMessages with clientMsgID ${clientMsgID}`, ...options }
    );
    return record.data.find(m => m.clientMsgID === clientMsgID);
  }

  /** All messages received through OnRecvNewMessages so far, in arrival order. */
  receivedMessages(since = 0) {
    return this.events(CbEvents.OnRecvNewMessages, d => Array.isArray(d), since).flatMap(
      r => r.data
    );
  }

  /** Create a text message and send it; returns `{created, sent}` (both MessageItems). */
  async sendText(recvID, text) {
    const created = await this.call('createTextMessage', text);
    const sent = await this.call('sendMessage', { recvID, groupID: '', message: created });
    return { created, sent };
  }

  /** Event names seen so far, in order (for ordering assertions in Python). */
  eventNames() {
    return this.log.records.map(r => r.event);
  }

  /** Log out if logged in (best effort, bounded), so the server sees a clean close. */
  async close() {
    if (!this.loggedIn) return;
    this.loggedIn = false;
    try {
      await withTimeout(this.sdk.logout(), 3000, `${this.name}.logout`);
    } catch {
      // the session may already be closed (kicked, server gone): nothing to do
    }
  }
}

/**
 * A bare WebSocket speaking the jssdk frame format directly, for protocol-level checks that
 * the SDK would not let us make (malformed frames, unknown functions, requests before Login).
 * Every frame received is recorded as `{index, event, text, binary, frame}` where `frame` is
 * the parsed JSON (or undefined) and `event` its `event` field.
 */
export class RawSocket {
  constructor(name, url) {
    this.name = name;
    this.url = url;
    this.log = new EventLog(`raw socket ${name}`);
    this.closed = null;
    this.ws = null;
  }

  async open({ timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    this.ws = new WebSocket(this.url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onmessage = message => {
      const binary = typeof message.data !== 'string';
      const text = binary ? new TextDecoder().decode(message.data) : message.data;
      let frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = undefined;
      }
      this.log.push({ event: frame?.event ?? '@Unparsable', text, binary, frame });
    };
    this.ws.onclose = event => {
      this.closed = { code: event.code, reason: event.reason };
      this.log.push({ event: '@Closed', data: this.closed });
    };
    await withTimeout(
      new Promise((resolve, reject) => {
        this.ws.onopen = () => resolve();
        this.ws.onerror = () => reject(new Error(`${this.name}: WebSocket to ${this.url} failed`));
      }),
      timeoutMs,
      `${this.name}: opening ${this.url}`
    );
    return this;
  }

  /** Send a text frame (objects are JSON-encoded). */
  send(payload) {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /**
   * Send `{reqFuncName, operationID, userID, data}` like the SDK does and wait for the frame
   * carrying the same operationID; returns that parsed frame (whatever its errCode).
   */
  async request(reqFuncName, data = '[]', { userID = '', operationID, timeoutMs } = {}) {
    const opID = operationID ?? `${reqFuncName}-${Math.random().toString(36).slice(2)}`;
    const since = this.log.records.length;
    this.send({ reqFuncName, operationID: opID, userID, data });
    const record = await this.log.waitFor(r => r.frame?.operationID === opID, {
      since,
      timeoutMs,
      label: `the answer to ${reqFuncName} (operationID ${opID})`,
    });
    return record.frame;
  }

  /** Send a raw text frame and wait for the next frame whose event is `event`. */
  async sendAndWaitForEvent(text, event, { timeoutMs } = {}) {
    const since = this.log.records.length;
    this.send(text);
    const record = await this.log.waitFor(r => r.event === event, {
      since,
      timeoutMs,
      label: `a frame with event ${JSON.stringify(event)} after sending ${brief(text, 80)}`,
    });
    return record.frame;
  }

  /** Frames received so far that were binary (the SDK can only read text frames). */
  binaryFrames() {
    return this.log.filter(r => r.binary);
  }

  close() {
    try {
      this.ws?.close();
    } catch {
      // already closed
    }
  }
}

/** Build the query URL the SDK uses for its WebSocket. */
export function wsQueryURL(wsUrl, { userID, token, platformID = 5, operationID = 'e2e-raw' }) {
  const query = new URLSearchParams({
    sendID: userID,
    token,
    platformID: String(platformID),
    operationID,
  });
  return `${wsUrl}/?${query}`;
}

let stdinLines = null;

/** The next line the test driver writes on our stdin (bounded by `timeoutMs`). */
function nextStdinLine(timeoutMs, label) {
  if (stdinLines === null) {
    stdinLines = { queue: [], waiters: [] };
    readline.createInterface({ input: process.stdin }).on('line', line => {
      const waiter = stdinLines.waiters.shift();
      if (waiter) waiter(line);
      else stdinLines.queue.push(line);
    });
  }
  if (stdinLines.queue.length) return Promise.resolve(stdinLines.queue.shift());
  return withTimeout(new Promise(resolve => stdinLines.waiters.push(resolve)), timeoutMs, label);
}

/** Read the scenario config from argv[2] (JSON) or the E2E_CONFIG environment variable. */
export function readConfig() {
  const raw = process.argv[2] ?? process.env.E2E_CONFIG;
  if (!raw) throw new Error('usage: node --experimental-websocket SCENARIO.mjs CONFIG_JSON');
  return JSON.parse(raw);
}

/**
 * What a scenario function receives: the config plus factories for clients and raw sockets
 * that are closed automatically when the scenario ends.
 */
class Context {
  constructor(config) {
    this.config = config;
    this.wsUrl = config.wsUrl;
    this.apiUrl = config.apiUrl;
    this.accounts = config.accounts ?? {};
    this.clients = [];
    this.sockets = [];
  }

  /** The account named `name` in the config (throws if missing). */
  account(name) {
    const account = this.accounts[name];
    if (!account) throw new Error(`no account ${name} in the scenario config`);
    return account;
  }

  /** A new, not yet logged-in client for account `name` (or an explicit account object). */
  client(name, account = this.account(name)) {
    const client = new Client(name, account, this);
    this.clients.push(client);
    return client;
  }

  /** A new client for account `name`, logged in. */
  async loggedInClient(name, account) {
    const client = this.client(name, account);
    await client.login();
    return client;
  }

  /** A raw WebSocket for account `name`, opened (query built like the SDK's). */
  async rawSocket(name, account = this.account(name)) {
    const socket = new RawSocket(name, wsQueryURL(this.wsUrl, account));
    this.sockets.push(socket);
    return socket.open();
  }

  /**
   * Ask the Python test to perform step `name` (e.g. 'restart') and wait until it is done.
   * Throws if the test reports an error or does not answer within `timeoutMs`.
   */
  async step(name, { timeoutMs = 60000 } = {}) {
    process.stdout.write(`${STEP_MARKER}${name}\n`);
    const reply = await nextStdinLine(timeoutMs, `the test driver performing step ${name}`);
    if (reply.trim() !== 'ok') throw new Error(`step ${name} failed in the test driver: ${reply}`);
  }

  async closeAll() {
    await Promise.allSettled(this.clients.map(c => c.close()));
    for (const socket of this.sockets) socket.close();
  }

  describeAll() {
    const parts = [
      ...this.clients.map(c => `${c.log.owner}:${c.log.describe()}`),
      ...this.sockets.map(s => `${s.log.owner}:${s.log.describe()}`),
    ];
    return parts.join('\n  ');
  }
}

/**
 * Run `scenario(ctx)` and exit: 0 after printing `RESULT_MARKER + JSON.stringify(result)`,
 * 1 after printing the error and every client's event log to stderr. Never hangs: the whole
 * run is bounded by SCENARIO_TIMEOUT_MS.
 */
export async function runScenario(scenario) {
  let ctx;
  const fail = (error, stage) => {
    const message = error?.stack ?? String(error);
    process.stderr.write(`E2E SCENARIO FAILED (${stage}): ${message}\n`);
    if (error?.response) process.stderr.write(`  response: ${brief(error.response, 2000)}\n`);
    if (ctx) process.stderr.write(`  events seen:\n  ${ctx.describeAll()}\n`);
    process.exit(1);
  };
  const guard = setTimeout(
    () => fail(new TimeoutError(`scenario exceeded ${SCENARIO_TIMEOUT_MS} ms`), 'timeout'),
    SCENARIO_TIMEOUT_MS
  );
  process.on('unhandledRejection', error => {
    // The SDK's own reconnect timer calls connect() without handling its rejection (an
    // Event from the WebSocket) and retries by itself: note it, do not fail on it.
    if (typeof Event !== 'undefined' && error instanceof Event) {
      process.stderr.write(`note: SDK reconnect attempt failed (${error.type})\n`);
      return;
    }
    fail(error, 'unhandled rejection');
  });
  try {
    ctx = new Context(readConfig());
    const result = await scenario(ctx);
    await ctx.closeAll();
    clearTimeout(guard);
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result ?? null)}\n`, () =>
      process.exit(0)
    );
  } catch (error) {
    fail(error, 'run');
  }
}

/**
 * Resolve once every push the server sent these clients so far has arrived: each client makes
 * a request, and its answer travels on the same socket after those pushes. Use it before
 * checking that a client got nothing.
 */
export async function settle(...clients) {
  await Promise.all(clients.map(client => client.call('getLoginStatus')));
}

/** The callback events a client saw from record `since` on (the synthetic `@...` left out). */
export function callbackEventNames(client, since = 0) {
  return client.log
    .filter(r => !r.event.startsWith('@'), since)
    .map(r => r.event);
}
