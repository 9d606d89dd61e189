// The real OpenIM jssdk (npm `open-im-sdk@3.5.2`) in Node.js against oimws: two users log
// in, alice sends bob a message, bob receives it as a live push.
//
//   cd examples && npm ci          # once: installs open-im-sdk from package-lock.json
//   node --experimental-websocket node_client.mjs --api http://127.0.0.1:10002 \
//        --ws ws://127.0.0.1:10003 --secret openIM123
//
// (Node 22+ has WebSocket built in; Node 20 needs --experimental-websocket.) Tokens come from
// the admin API with the server's secret; the users are registered when they are not yet.
// Prints one JSON line: what was sent and what bob received.
import { OpenIMSDK, CbEvents } from 'open-im-sdk';

const PLATFORM_WEB = 5;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const apiAddr = option('api', 'http://127.0.0.1:10002');
const wsAddr = option('ws', 'ws://127.0.0.1:10003');
const secret = option('secret', 'openIM123');
const text = option('text', 'hello from the jssdk in Node.js');

/** POST to the admin API; the envelope's data, or an Error naming errCode and errMsg. */
async function admin(path, body, token = '') {
  const response = await fetch(`${apiAddr}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', operationID: `${Date.now()}`, token },
    body: JSON.stringify(body),
  });
  const envelope = await response.json();
  if (envelope.errCode !== 0) throw new Error(`${path}: ${envelope.errCode} ${envelope.errMsg}`);
  return envelope.data;
}

async function tokensFor(users) {
  const { token: adminToken } = await admin('/auth/get_admin_token', { secret, userID: 'imAdmin' });
  const { results } = await admin('/user/account_check', { checkUserIDs: Object.keys(users) },
    adminToken);
  const missing = results.filter(r => r.accountStatus === 0).map(r => r.userID);
  if (missing.length) {
    await admin('/user/user_register',
      { users: missing.map(userID => ({ userID, nickname: users[userID] })) }, adminToken);
  }
  const tokens = {};
  for (const userID of Object.keys(users)) {
    ({ token: tokens[userID] } = await admin('/auth/get_user_token',
      { platformID: PLATFORM_WEB, userID }, adminToken));
  }
  return tokens;
}

/** A logged-in SDK instance: the same calls a web page makes. */
async function login(userID, token) {
  const sdk = new OpenIMSDK();
  await sdk.login({ userID, token, platformID: PLATFORM_WEB, wsAddr, apiAddr });
  return sdk;
}

function within(ms, promise, what) {
  return Promise.race([promise, new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))]);
}

async function main() {
  if (typeof WebSocket !== 'function') {
    throw new Error('this Node.js has no WebSocket: run it with --experimental-websocket');
  }
  const tokens = await tokensFor({ alice: 'Alice', bob: 'Bob' });
  const alice = await login('alice', tokens.alice);
  const bob = await login('bob', tokens.bob);

  // bob hears about new messages as pushes: OnRecvNewMessages carries a list of them
  const received = new Promise(resolve => {
    bob.on(CbEvents.OnRecvNewMessages, ({ data }) => {
      const mine = data.find(m => m.sendID === 'alice' && m.textElem?.content === text);
      if (mine) resolve(mine);
    });
  });

  const { data: message } = await alice.createTextMessage(text);
  const { data: stored } = await alice.sendMessage({ recvID: 'bob', groupID: '', message });
  const got = await within(10000, received, 'message for bob');

  console.log(JSON.stringify({
    sent: { clientMsgID: stored.clientMsgID, seq: stored.seq },
    received: { clientMsgID: got.clientMsgID, from: got.sendID, text: got.textElem.content },
  }));
  await alice.logout();
  await bob.logout();
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error?.errMsg ? `${error.errMsg} (errCode ${error.errCode})` : error);
    process.exit(1);
  }
);
