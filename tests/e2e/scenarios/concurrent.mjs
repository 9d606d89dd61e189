// alice and bob fire messages at each other at the same time without waiting for answers:
// every message gets its own seq, the seqs of the conversation have no gaps, and each side
// receives the other's messages in seq order.
import { runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const perSide = ctx.config.perSide ?? 20;
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);
  const plan = [];
  for (let i = 0; i < perSide; i += 1) {
    plan.push([alice, bob, `alice ${i}`], [bob, alice, `bob ${i}`]);
  }

  const created = await Promise.all(plan.map(([from, , text]) => from.call('createTextMessage', text)));
  const sent = await Promise.all(
    plan.map(([from, to], i) => from.call('sendMessage', { recvID: to.userID, groupID: '', message: created[i] }))
  );
  for (const [i, [, to]] of plan.entries()) await to.waitForMessage(created[i].clientMsgID);

  const history = await alice.call('getAdvancedHistoryMessageList', {
    conversationID,
    startClientMsgID: '',
    count: perSide * 2 + 10,
    lastMinSeq: 0,
  });
  return {
    sent: sent.map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq, sendID: m.sendID })),
    receivedByAlice: alice.receivedMessages().map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq })),
    receivedByBob: bob.receivedMessages().map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq })),
    history: history.messageList.map(m => ({ clientMsgID: m.clientMsgID, seq: m.seq })),
  };
});
