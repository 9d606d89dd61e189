// carol is not part of alice's and bob's conversation: she must not read its history nor
// mark it as read.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const carol = await ctx.loggedInClient('carol');
  const conversationID = singleConversationID(alice.userID, bob.userID);

  const message = await alice.sendText(bob.userID, 'private');
  await bob.waitForMessage(message.created.clientMsgID);

  const history = await carol.callExpectingError('getAdvancedHistoryMessageList', {
    conversationID,
    startClientMsgID: '',
    count: 20,
    lastMinSeq: 0,
  });
  const markRead = await carol.callExpectingError('markConversationMessageAsRead', conversationID);
  const bobConversation = await bob.call('getOneConversation', { sourceID: alice.userID, sessionType: 1 });
  const carolConversations = await carol.call('getAllConversationList');

  return { conversationID, history, markRead, bobConversation, carolConversations };
});
