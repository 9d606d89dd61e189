// History paging: alice sends N messages; both sides page backwards with count 3 the way
// the client does (startClientMsgID = oldest message of the previous page, lastMinSeq from
// the previous answer) until isEnd.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const total = ctx.config.messageCount ?? 7;
  const pageSize = ctx.config.pageSize ?? 3;
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);

  const sent = [];
  for (let i = 1; i <= total; i += 1) {
    const { created, sent: stored } = await alice.sendText(bob.userID, `history ${i}`);
    await bob.waitForMessage(created.clientMsgID);
    sent.push(stored);
  }

  const pageThrough = async client => {
    const pages = [];
    let startClientMsgID = '';
    let lastMinSeq = 0;
    // A correct server ends after ceil(total / pageSize) pages; allow two more to see a bug.
    for (let i = 0; i < Math.ceil(total / pageSize) + 2; i += 1) {
      const page = await client.call('getAdvancedHistoryMessageList', {
        conversationID,
        startClientMsgID,
        count: pageSize,
        lastMinSeq,
      });
      pages.push(page);
      const list = page?.messageList ?? [];
      if (page?.isEnd || list.length === 0) break;
      startClientMsgID = list[0].clientMsgID;
      lastMinSeq = page.lastMinSeq ?? 0;
    }
    return pages;
  };

  return { conversationID, sent, pages: { alice: await pageThrough(alice), bob: await pageThrough(bob) } };
});
