// Conversation state lives on the server: what one device sets, a newly logged-in device sees.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);
  for (const text of ['one', 'two']) await bob.sendText(alice.userID, text);
  await alice.call('pinConversation', { conversationID, isPinned: true });
  await alice.call('setConversationDraft', { conversationID, draftText: 'unsent words' });
  await alice.call('setConversationRecvMessageOpt', { conversationID, opt: 2 });
  const phone = await ctx.loggedInClient('alicePhone');
  const seenByPhone = await phone.call('getAllConversationList');
  const totalOnPhone = await phone.call('getTotalUnreadMsgCount');
  await phone.call('hideConversation', conversationID);
  const afterHide = await alice.call('getAllConversationList');
  await bob.sendText(alice.userID, 'three');
  const afterNewMessage = await alice.call('getAllConversationList');
  await alice.call('clearConversationAndDeleteAllMsg', conversationID);
  const cleared = await alice.call('getAdvancedHistoryMessageList',
    { conversationID, startClientMsgID: '', count: 10, lastMinSeq: 0 });
  const bobStillHas = await bob.call('getAdvancedHistoryMessageList',
    { conversationID, startClientMsgID: '', count: 10, lastMinSeq: 0 });
  return { seenByPhone, totalOnPhone, afterHide, afterNewMessage, cleared, bobStillHas };
});
