// Offline delivery. Phase 1: bob has never logged in; alice sends 3 messages; bob logs in.
// Phase 2: bob logs out; alice sends 2 more; bob logs in again (new client instance).
// After each login bob's conversation list, unread count and history are reported.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bobID = ctx.account('bob').userID;
  const conversationID = singleConversationID(alice.userID, bobID);

  const sendSome = async texts => {
    const sent = [];
    for (const text of texts) sent.push((await alice.sendText(bobID, text)).sent);
    return sent;
  };
  const bobView = async bob => ({
    conversationList: await bob.call('getAllConversationList'),
    totalUnread: await bob.call('getTotalUnreadMsgCount'),
    history: await bob.call('getAdvancedHistoryMessageList', {
      conversationID,
      startClientMsgID: '',
      count: 20,
      lastMinSeq: 0,
    }),
  });

  const phase1Sent = await sendSome(['offline 1', 'offline 2', 'offline 3']);
  const bob1 = await ctx.loggedInClient('bob');
  const phase1 = { sent: phase1Sent, view: await bobView(bob1) };
  const logout = await bob1.request('logout');
  bob1.loggedIn = false;

  const phase2Sent = await sendSome(['offline 4', 'offline 5']);
  const bob2 = await ctx.loggedInClient('bob');
  const phase2 = { sent: phase2Sent, view: await bobView(bob2) };

  return { conversationID, phase1, logout: { errCode: logout.errCode, event: logout.event }, phase2 };
});
