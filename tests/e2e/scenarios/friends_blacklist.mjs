// bob blocks alice: only bob hears OnBlackAdded; alice's message to bob is refused (1302)
// and stored nowhere (the conversation's history holds only bob's message), while bob can
// still write to alice; after removeBlack (OnBlackDeleted) alice's next message goes
// through. carol is the bystander.
import {
  CbEvents,
  callbackEventNames,
  runScenario,
  settle,
  singleConversationID,
} from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const carol = await ctx.loggedInClient('carol');
  const marks = { alice: alice.mark(), bob: bob.mark(), carol: carol.mark() };
  const conversationID = singleConversationID(alice.userID, bob.userID);

  await bob.call('addBlack', { toUserID: alice.userID, ex: 'spam' });
  const blackAdded = (await bob.waitFor(CbEvents.OnBlackAdded)).data;
  const blackList = await bob.call('getBlackList');

  const blocked = await alice.call('createTextMessage', 'let me in');
  const refused = await alice.callExpectingError('sendMessage', {
    recvID: bob.userID,
    groupID: '',
    message: blocked,
  });
  const fromBlocker = await bob.sendText(alice.userID, 'I can still write');
  await alice.waitForMessage(fromBlocker.created.clientMsgID);
  const history = await alice.call('getAdvancedHistoryMessageList', {
    conversationID,
    startClientMsgID: '',
    count: 20,
    lastMinSeq: 0,
  });
  const bobConversations = await bob.call('getAllConversationList');
  await settle(alice, bob, carol);
  const bobReceivedWhileBlocked = bob.receivedMessages().map(m => m.clientMsgID);

  await bob.call('removeBlack', alice.userID);
  const blackDeleted = (await bob.waitFor(CbEvents.OnBlackDeleted)).data;
  const allowed = await alice.sendText(bob.userID, 'thanks');
  const received = await bob.waitForMessage(allowed.created.clientMsgID);
  await settle(alice, bob, carol);

  return {
    blackAdded,
    blackList,
    blockedClientMsgID: blocked.clientMsgID,
    fromBlockerClientMsgID: fromBlocker.created.clientMsgID,
    refused,
    history,
    bobConversations,
    bobReceivedWhileBlocked,
    blackDeleted,
    blackListAfter: await bob.call('getBlackList'),
    received,
    events: {
      alice: callbackEventNames(alice, marks.alice),
      bob: callbackEventNames(bob, marks.bob),
      carol: callbackEventNames(carol, marks.carol),
    },
  };
});
