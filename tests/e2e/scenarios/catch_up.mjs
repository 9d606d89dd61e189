// Many messages while a member's connection drops and the client reconnects by itself
// (it sends Login again on the new socket): afterwards the member's history has every
// message exactly once, in seq order, and the unread count covers them all.
import { CbEvents, runScenario, singleConversationID, sleep } from '../lib.mjs';

runScenario(async ctx => {
  const total = ctx.config.messageCount ?? 30;
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);
  const sent = [];
  let dropped = false;
  for (let i = 0; i < total; i++) {
    const { sent: stored } = await alice.sendText(bob.userID, `m${i}`);
    sent.push(stored);
    if (i === Math.floor(total / 3)) {
      // the network drops: the socket closes under the client, which reconnects by itself
      bob.sdk.wsManager.ws.close();
      dropped = true;
    }
    await sleep(100);
  }
  // the reconnect happens after the client's own 5 s back-off, then it logs in again
  await bob.waitFor(CbEvents.OnConnectSuccess, () => true, { since: 3, timeoutMs: 20000,
    label: 'OnConnectSuccess after the reconnect' });
  const pages = [];
  let start = '';
  for (;;) {
    const page = await bob.call('getAdvancedHistoryMessageList',
      { conversationID, startClientMsgID: start, count: 7, lastMinSeq: 0 });
    pages.unshift(...page.messageList);
    if (page.isEnd || page.messageList.length === 0) break;
    start = page.messageList[0].clientMsgID;
  }
  return {
    dropped,
    sent: sent.map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq })),
    history: pages.map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq })),
    conversation: await bob.call('getOneConversation', { sourceID: alice.userID, sessionType: 1 }),
    connectSuccesses: bob.events(CbEvents.OnConnectSuccess).length,
  };
});
