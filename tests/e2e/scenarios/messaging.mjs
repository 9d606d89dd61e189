// Messages both ways between alice and bob: text and custom messages, as created, as
// answered by sendMessage, and as received through OnRecvNewMessages.
import { runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const exchanged = []; // in send order: {from, to, kind, created, sent, received}

  const deliver = async (from, to, kind, created) => {
    const sent = await from.call('sendMessage', { recvID: to.userID, groupID: '', message: created });
    const received = await to.waitForMessage(created.clientMsgID);
    exchanged.push({ from: from.userID, to: to.userID, kind, created, sent, received });
  };

  await deliver(alice, bob, 'text', await alice.call('createTextMessage', 'hi'));
  await deliver(bob, alice, 'text', await bob.call('createTextMessage', 'hello alice'));
  const custom = { data: JSON.stringify({ type: 'card', n: 1 }), extension: 'ext-1', description: 'desc-1' };
  await deliver(alice, bob, 'custom', await alice.call('createCustomMessage', custom));
  await deliver(bob, alice, 'custom', await bob.call('createCustomMessage', { ...custom, extension: 'ext-2' }));
  await deliver(alice, bob, 'text', await alice.call('createTextMessage', 'third from alice'));
  await deliver(bob, alice, 'text', await bob.call('createTextMessage', 'third from bob'));
  // Text that stresses the JSON codecs: quotes, backslashes, control and non-BMP characters,
  // U+2028, markup, and 64 KiB of payload.
  const tricky = `héllo 👋 "quoted" \\ back\nnew\tline \u0001 \u2028 </script> 中文 ${'x'.repeat(65536)}`;
  await deliver(alice, bob, 'text', await alice.call('createTextMessage', tricky));

  return { custom, exchanged };
});
