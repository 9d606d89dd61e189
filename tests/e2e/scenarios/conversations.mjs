// Conversation list, unread counts and the conversation pushes on the recipient.
// alice sends two messages to bob; bob never reads them.
import { CbEvents, runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);
  const isOurs = data => Array.isArray(data) && data.some(c => c?.conversationID === conversationID);
  const latestHas = (conversation, clientMsgID) => {
    try {
      return JSON.parse(conversation.latestMsg).clientMsgID === clientMsgID;
    } catch {
      return false;
    }
  };

  // First message: a new conversation for bob.
  const first = await alice.sendText(bob.userID, 'first');
  await bob.waitForMessage(first.created.clientMsgID);
  const newConversation = await bob.waitFor(CbEvents.OnNewConversation, isOurs, {
    label: `OnNewConversation for ${conversationID}`,
  });
  const unreadAfterFirst = await bob.waitFor(
    CbEvents.OnTotalUnreadMessageCountChanged,
    data => data === 1,
    { label: 'OnTotalUnreadMessageCountChanged with data 1' }
  );

  // Second message: the existing conversation changes.
  const mark = bob.mark();
  const second = await alice.sendText(bob.userID, 'second');
  await bob.waitForMessage(second.created.clientMsgID, { since: mark });
  const changed = await bob.waitFor(
    CbEvents.OnConversationChanged,
    data =>
      Array.isArray(data) &&
      data.some(c => c?.conversationID === conversationID && latestHas(c, second.created.clientMsgID)),
    { since: mark, label: `OnConversationChanged for ${conversationID} with the second message` }
  );
  const unreadAfterSecond = await bob.waitFor(
    CbEvents.OnTotalUnreadMessageCountChanged,
    data => data === 2,
    { since: mark, label: 'OnTotalUnreadMessageCountChanged with data 2' }
  );

  const side = async client => ({
    conversationList: await client.call('getAllConversationList'),
    oneConversation: await client.call('getOneConversation', {
      sourceID: client === bob ? alice.userID : bob.userID,
      sessionType: 1,
    }),
    totalUnread: await client.call('getTotalUnreadMsgCount'),
    eventNames: client.eventNames(),
  });

  return {
    conversationID,
    messages: [first.sent, second.sent],
    pushes: {
      newConversation: newConversation.data,
      unreadAfterFirst: unreadAfterFirst.data,
      changed: changed.data,
      unreadAfterSecond: unreadAfterSecond.data,
    },
    alice: await side(alice),
    bob: await side(bob),
  };
});
