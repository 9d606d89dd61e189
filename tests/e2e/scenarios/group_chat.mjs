// One message to a group of several members: each member's device gets it exactly once
// (a sentinel sent after it proves nothing more is on the way), @mentions, revoke, typing.
import { CbEvents, runScenario } from '../lib.mjs';

const GROUP = 'g-chat';

runScenario(async ctx => {
  const names = ['owner', 'alice', 'bob', 'carol', 'dave'];
  const c = {};
  for (const name of names) c[name] = await ctx.loggedInClient(name);
  const bobPhone = await ctx.loggedInClient('bobPhone');
  await c.owner.call('createGroup', {
    groupInfo: { groupID: GROUP, groupName: 'Chat', needVerification: 2 },
    memberUserIDs: ['alice', 'bob', 'carol'],
  });
  const members = [c.owner, c.alice, c.bob, c.carol, bobPhone];
  for (const m of members.slice(1)) await m.waitFor(CbEvents.OnJoinedGroupAdded, g => g?.groupID === GROUP);

  const sendGroup = async (client, message) =>
    client.call('sendMessage', { recvID: '', groupID: GROUP, message });
  const marks = Object.fromEntries(members.map(m => [m.name, m.mark()]));
  const hello = await sendGroup(c.alice, await c.alice.call('createTextMessage', 'hello all'));
  const sentinel = await sendGroup(c.owner, await c.owner.call('createTextMessage', 'sentinel'));
  for (const m of members) if (m !== c.owner) await m.waitForMessage(sentinel.clientMsgID);
  await c.alice.waitForMessage(sentinel.clientMsgID);
  const helloCounts = Object.fromEntries(members.map(m => [m.name,
    m.receivedMessages(marks[m.name]).filter(x => x.clientMsgID === hello.clientMsgID).length]));
  const daveGot = c.dave.receivedMessages().length;

  // @bob: bob's copy says isAtSelf, carol's does not; bob's conversation shows groupAtType 1
  const at = await c.alice.call('createTextAtMessage', { text: '@bob', atUserIDList: ['bob'], atUsersInfo: [] });
  await sendGroup(c.alice, at);
  const atForBob = await c.bob.waitForMessage(at.clientMsgID);
  const atForCarol = await c.carol.waitForMessage(at.clientMsgID);
  const bobConversation = await c.bob.call('getOneConversation', { sourceID: GROUP, sessionType: 3 });

  // revoke by the sender: everyone hears, history shows the revoke
  await c.alice.call('revokeMessage', { conversationID: `sg_${GROUP}`, clientMsgID: hello.clientMsgID });
  const revoked = await c.carol.waitFor(CbEvents.OnNewRecvMessageRevoked, d => d?.clientMsgID === hello.clientMsgID);
  const revokeTwice = (await c.alice.callExpectingError('revokeMessage',
    { conversationID: `sg_${GROUP}`, clientMsgID: hello.clientMsgID })).errCode;
  const history = await c.bob.call('getAdvancedHistoryMessageList',
    { conversationID: `sg_${GROUP}`, startClientMsgID: '', count: 20, lastMinSeq: 0 });

  // typing in a one-to-one chat: delivered, not stored
  await c.alice.call('typingStatusUpdate', { recvID: 'dave', msgTip: 'typing' });
  const typing = await c.dave.waitFor(CbEvents.OnRecvNewMessages, d => Array.isArray(d) && d.some(m => m.contentType === 113));
  const daveConversations = await c.dave.call('getAllConversationList');

  // a non-member cannot post, and nothing is stored
  const outsider = (await c.dave.callExpectingError('sendMessage', { recvID: '', groupID: GROUP,
    message: await c.dave.call('createTextMessage', 'let me in') })).errCode;

  return {
    helloCounts, daveGot, atForBob, atForCarol, bobConversation, revoked: revoked.data,
    revokeTwice, history, typing: typing.data, daveConversations, outsider,
  };
});
