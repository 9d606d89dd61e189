// Idempotent resend: alice sends the same created MessageItem (same clientMsgID) twice.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);

  const created = await alice.call('createTextMessage', 'only once');
  const params = { recvID: bob.userID, groupID: '', message: created };
  const firstSend = await alice.call('sendMessage', params);
  await bob.waitForMessage(created.clientMsgID);
  const secondSend = await alice.call('sendMessage', params);
  // A later message is a sync point: once bob has it, any duplicate push has arrived too.
  const after = await alice.sendText(bob.userID, 'after the resend');
  await bob.waitForMessage(after.created.clientMsgID);

  const history = async client =>
    client.call('getAdvancedHistoryMessageList', {
      conversationID,
      startClientMsgID: '',
      count: 50,
      lastMinSeq: 0,
    });
  return {
    created,
    firstSend,
    secondSend,
    after: after.sent,
    bobHistory: await history(bob),
    aliceHistory: await history(alice),
    bobPushCount: bob.receivedMessages().filter(m => m.clientMsgID === created.clientMsgID).length,
  };
});
