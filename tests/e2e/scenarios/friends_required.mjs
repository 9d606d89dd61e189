// With friend_required_for_chat on: a stranger's message is refused (1303), a friend's is
// delivered, and once bob deletes alice her messages are refused again.
import { CbEvents, runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const send = async text =>
    alice.call('sendMessage', {
      recvID: bob.userID,
      groupID: '',
      message: await alice.call('createTextMessage', text),
    });
  const sendExpectingError = async text =>
    alice.callExpectingError('sendMessage', {
      recvID: bob.userID,
      groupID: '',
      message: await alice.call('createTextMessage', text),
    });

  const asStranger = await sendExpectingError('hello stranger');
  await alice.call('addFriend', { toUserID: bob.userID, reqMsg: '' });
  await bob.call('acceptFriendApplication', { toUserID: alice.userID, handleMsg: '' });
  await alice.waitFor(CbEvents.OnFriendAdded);
  const asFriend = await send('hello friend');
  await bob.waitForMessage(asFriend.clientMsgID);
  await bob.call('deleteFriend', alice.userID);
  const afterDeletion = await sendExpectingError('still there?');
  return { asStranger, asFriend, afterDeletion };
});
