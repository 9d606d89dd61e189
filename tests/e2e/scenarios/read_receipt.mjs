// bob reads the conversation: his unread counts drop to 0 and alice gets a C2C read receipt
// naming the messages bob read.
import { CbEvents, runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);

  const sent = [];
  for (const text of ['one', 'two', 'three']) {
    const { created, sent: stored } = await alice.sendText(bob.userID, text);
    await bob.waitForMessage(created.clientMsgID);
    sent.push(stored);
  }
  const wanted = sent.map(m => m.clientMsgID);
  const before = {
    conversation: await bob.call('getOneConversation', { sourceID: alice.userID, sessionType: 1 }),
    totalUnread: await bob.call('getTotalUnreadMsgCount'),
  };

  const aliceMark = alice.mark();
  const bobMark = bob.mark();
  await bob.call('markConversationMessageAsRead', conversationID);

  // The receipt may come in one push or several: wait until every message read is covered.
  const covered = () =>
    new Set(
      alice
        .events(CbEvents.OnRecvC2CReadReceipt, d => Array.isArray(d), aliceMark)
        .flatMap(r => r.data)
        .flatMap(receipt => receipt?.msgIDList ?? [])
    );
  await alice.log.waitFor(
    r => r.event === CbEvents.OnRecvC2CReadReceipt && wanted.every(id => covered().has(id)),
    { since: aliceMark, label: `OnRecvC2CReadReceipt covering ${wanted.join(', ')}` }
  );
  const receipts = alice
    .events(CbEvents.OnRecvC2CReadReceipt, () => true, aliceMark)
    .map(r => r.data);

  return {
    conversationID,
    sent,
    before,
    after: {
      conversation: await bob.call('getOneConversation', { sourceID: alice.userID, sessionType: 1 }),
      conversationList: await bob.call('getAllConversationList'),
      totalUnread: await bob.call('getTotalUnreadMsgCount'),
    },
    receipts,
    // After the receipt, the sender's own messages read as isRead in her history.
    aliceHistory: await alice.call('getAdvancedHistoryMessageList', {
      conversationID,
      startClientMsgID: '',
      count: 20,
      lastMinSeq: 0,
    }),
    bobEventsAfterRead: bob.log.filter(() => true, bobMark).map(r => ({ event: r.event, data: r.data })),
  };
});
