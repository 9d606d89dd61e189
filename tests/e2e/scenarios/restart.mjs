// Server restart while clients are connected: the real client reconnects by itself (5 s
// later) and logs in again; messages, seqs and unread counts survive the restart.
import { CbEvents, runScenario, singleConversationID } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const conversationID = singleConversationID(alice.userID, bob.userID);

  const before = [];
  for (const [from, to, text] of [[alice, bob, 'before 1'], [bob, alice, 'before 2'], [alice, bob, 'before 3']]) {
    const { created, sent } = await from.sendText(to.userID, text);
    await to.waitForMessage(created.clientMsgID);
    before.push(sent);
  }

  const marks = { alice: alice.mark(), bob: bob.mark() };
  await ctx.step('restart');
  // The client notices the closed socket, reconnects after its 5 s interval and sends Login:
  // the server answers with OnConnecting / OnConnectSuccess on the new socket.
  for (const client of [alice, bob]) {
    await client.waitFor(CbEvents.OnConnectSuccess, () => true, {
      since: marks[client.name],
      timeoutMs: 30000,
      label: 'OnConnectSuccess after the automatic reconnect',
    });
  }

  const after = await alice.sendText(bob.userID, 'after restart');
  const received = await bob.waitForMessage(after.created.clientMsgID);
  const history = await bob.call('getAdvancedHistoryMessageList', {
    conversationID,
    startClientMsgID: '',
    count: 20,
    lastMinSeq: 0,
  });
  return {
    conversationID,
    before,
    after: after.sent,
    received,
    history,
    bobConversation: await bob.call('getOneConversation', { sourceID: alice.userID, sessionType: 1 }),
    loginStatus: { alice: await alice.call('getLoginStatus'), bob: await bob.call('getLoginStatus') },
  };
});
