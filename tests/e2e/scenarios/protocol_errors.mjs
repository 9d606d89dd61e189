// Protocol errors on one raw socket opened with a good token. Every step is reported; after
// every error the same socket must still answer (GetLoginStatus / Login).
import { runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const account = ctx.account('alice');
  const raw = await ctx.rawSocket('alice_raw', account);
  const userID = account.userID;
  const steps = [];
  const record = (name, sent, frame) => {
    steps.push({ name, sent, frame });
    return frame;
  };
  const request = async (name, reqFuncName, data, operationID) =>
    record(name, { reqFuncName, data, operationID }, await raw.request(reqFuncName, data, { userID, operationID }));

  // Before Login.
  await request('beforeLogin:GetAllConversationList', 'GetAllConversationList', '[]', 'op-before-login-1');
  await request('beforeLogin:CreateTextMessage', 'CreateTextMessage', '["hi"]', 'op-before-login-2');
  const malformed1 = '{"reqFuncName": "GetLoginStatus", "operationID": "op-mal-1", ';
  record('beforeLogin:malformed', malformed1, await raw.sendAndWaitForEvent(malformed1, 'Protocol Error'));

  // Login still works on this socket.
  await request('login', 'Login', JSON.stringify([userID, account.token]), 'op-login');
  await request('status:afterLogin', 'GetLoginStatus', '[]', 'op-status-1');

  // Errors after Login, each followed by a check that the socket still serves requests.
  const malformed2 = 'this is not json';
  record('malformed', malformed2, await raw.sendAndWaitForEvent(malformed2, 'Protocol Error'));
  await request('status:afterMalformed', 'GetLoginStatus', '[]', 'op-status-2');
  await request('unknownFunction', 'NoSuchFunction', '[]', 'op-unknown');
  await request('status:afterUnknown', 'GetLoginStatus', '[]', 'op-status-3');
  await request('badArgs:numberForText', 'CreateTextMessage', '[123]', 'op-bad-1');
  await request('badArgs:notJson', 'CreateTextMessage', 'not json', 'op-bad-2');
  await request('badArgs:objectNotArray', 'CreateTextMessage', '{"text": "hi"}', 'op-bad-3');
  await request('badArgs:history', 'GetAdvancedHistoryMessageList', '["not an object"]', 'op-bad-4');
  await request('status:afterBadArgs', 'GetLoginStatus', '[]', 'op-status-4');
  await request('userID:afterBadArgs', 'GetLoginUserID', '[]', 'op-userid');
  await request('good:CreateTextMessage', 'CreateTextMessage', '["still fine"]', 'op-good');

  return { steps, binaryFrames: raw.binaryFrames().length, closed: raw.closed };
});
