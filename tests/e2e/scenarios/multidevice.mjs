// Multi-device: alice on Web (5) and iOS (1). What alice sends from Web reaches her iOS
// device through OnRecvNewMessages; what bob sends reaches both of alice's devices.
import { runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const aliceWeb = await ctx.loggedInClient('alice_web');
  const alicePhone = await ctx.loggedInClient('alice_phone');
  const bob = await ctx.loggedInClient('bob');

  const own = await aliceWeb.sendText(bob.userID, 'from alice web');
  const onPhone = await alicePhone.waitForMessage(own.created.clientMsgID);
  const onBob = await bob.waitForMessage(own.created.clientMsgID);

  const reply = await bob.sendText(aliceWeb.userID, 'from bob');
  const replyOnWeb = await aliceWeb.waitForMessage(reply.created.clientMsgID);
  const replyOnPhone = await alicePhone.waitForMessage(reply.created.clientMsgID);

  return {
    own: { sent: own.sent, onPhone, onBob },
    reply: { sent: reply.sent, onWeb: replyOnWeb, onPhone: replyOnPhone },
    ownEchoOnSendingDevice: aliceWeb
      .receivedMessages()
      .filter(m => m.clientMsgID === own.created.clientMsgID).length,
  };
});
