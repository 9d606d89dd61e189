// A group's life through the real client: created with an admin and a member, joined by
// application, managed (mute, rename, kick, transfer, quit) and dismissed, with the outsider
// carol watching. Each step waits for the callback it should cause; refusals are collected
// with their codes; the Python side checks who heard what.
import { CbEvents, runScenario } from '../lib.mjs';

const GROUP = 'g-e2e';

runScenario(async ctx => {
  const names = ['owner', 'admin', 'alice', 'bob', 'carol'];
  const c = {};
  for (const name of names) c[name] = await ctx.loggedInClient(name);
  const member = (data, userID) => data?.userID === userID;
  const notice = contentType => messages =>
    Array.isArray(messages) && messages.some(m => m.groupID === GROUP && m.contentType === contentType);
  const refusals = {};
  const refuse = async (label, client, method, ...args) => {
    refusals[label] = (await client.callExpectingError(method, ...args)).errCode;
  };

  const created = await c.owner.call('createGroup', {
    groupInfo: { groupID: GROUP, groupName: 'Hikers', needVerification: 0 },
    memberUserIDs: ['alice'],
    adminUserIDs: ['admin'],
  });
  for (const name of ['admin', 'alice']) {
    await c[name].waitFor(CbEvents.OnJoinedGroupAdded, g => g?.groupID === GROUP);
    await c[name].waitFor(CbEvents.OnRecvNewMessages, notice(1501));
  }

  // bob applies; the owner and the admin hear of it, the admin accepts
  await c.bob.call('joinGroup', { groupID: GROUP, reqMsg: 'hi', joinSource: 3 });
  for (const name of ['owner', 'admin']) {
    await c[name].waitFor(CbEvents.OnGroupApplicationAdded, a => a?.userID === 'bob');
  }
  const asRecipient = await c.owner.call('getGroupApplicationListAsRecipient');
  await refuse('memberAccepts', c.alice, 'acceptGroupApplication',
    { groupID: GROUP, fromUserID: 'bob', handleMsg: '' });
  await c.admin.call('acceptGroupApplication', { groupID: GROUP, fromUserID: 'bob', handleMsg: 'ok' });
  await c.bob.waitFor(CbEvents.OnGroupApplicationAccepted, a => a?.groupID === GROUP);
  await c.bob.waitFor(CbEvents.OnJoinedGroupAdded, g => g?.groupID === GROUP);
  await c.alice.waitFor(CbEvents.OnGroupMemberAdded, d => member(d, 'bob'));
  await refuse('acceptTwice', c.owner, 'acceptGroupApplication',
    { groupID: GROUP, fromUserID: 'bob', handleMsg: '' });
  const membersAfterJoin = await c.alice.call('getGroupMemberList',
    { groupID: GROUP, filter: 0, offset: 0, count: 10 });

  // refusals: nothing below may change anything
  await refuse('memberKicks', c.alice, 'kickGroupMember', { groupID: GROUP, reason: '', userIDList: ['bob'] });
  await refuse('adminKicksOwner', c.admin, 'kickGroupMember', { groupID: GROUP, reason: '', userIDList: ['owner'] });
  await refuse('adminMutesOwner', c.admin, 'changeGroupMemberMute', { groupID: GROUP, userID: 'owner', mutedSeconds: 60 });
  await refuse('memberRenames', c.alice, 'setGroupInfo', { groupID: GROUP, groupName: 'Mine' });
  await refuse('adminDismisses', c.admin, 'dismissGroup', GROUP);
  await refuse('ownerQuits', c.owner, 'quitGroup', GROUP);
  await refuse('outsiderQuits', c.carol, 'quitGroup', GROUP);
  await refuse('outsiderReadsHistory', c.carol, 'getAdvancedHistoryMessageList',
    { conversationID: `sg_${GROUP}`, startClientMsgID: '', count: 10, lastMinSeq: 0 });
  await c.owner.call('setGroupInfo', { groupID: GROUP, lookMemberInfo: 1 });
  await c.alice.waitFor(CbEvents.OnGroupInfoChanged, g => g?.lookMemberInfo === 1);
  await refuse('outsiderListsMembers', c.carol, 'getGroupMemberList',
    { groupID: GROUP, filter: 0, offset: 0, count: 10 });
  const membersAfterRefusals = await c.alice.call('getGroupMemberList',
    { groupID: GROUP, filter: 0, offset: 0, count: 10 });

  // management
  await c.admin.call('changeGroupMemberMute', { groupID: GROUP, userID: 'bob', mutedSeconds: 60 });
  const muted = await c.alice.waitFor(CbEvents.OnGroupMemberInfoChanged,
    d => member(d, 'bob') && d.muteEndTime > 0);
  await c.owner.call('setGroupInfo', { groupID: GROUP, groupName: 'Climbers' });
  const renamed = await c.bob.waitFor(CbEvents.OnGroupInfoChanged, g => g?.groupName === 'Climbers');
  await c.owner.call('kickGroupMember', { groupID: GROUP, reason: 'bye', userIDList: ['bob'] });
  await c.bob.waitFor(CbEvents.OnJoinedGroupDeleted, g => g?.groupID === GROUP);
  await c.alice.waitFor(CbEvents.OnGroupMemberDeleted, d => member(d, 'bob'));
  await refuse('kickedReadsMembers', c.bob, 'getGroupMemberList',
    { groupID: GROUP, filter: 0, offset: 0, count: 10 });
  await c.owner.call('transferGroupOwner', { groupID: GROUP, newOwnerUserID: 'admin' });
  await c.alice.waitFor(CbEvents.OnGroupInfoChanged, g => g?.ownerUserID === 'admin');
  await c.owner.call('quitGroup', GROUP);
  await c.alice.waitFor(CbEvents.OnGroupMemberDeleted, d => member(d, 'owner'));
  const aliceHistory = await c.alice.call('getAdvancedHistoryMessageList',
    { conversationID: `sg_${GROUP}`, startClientMsgID: '', count: 50, lastMinSeq: 0 });
  const conversations = await c.alice.call('getAllConversationList');
  await c.admin.call('dismissGroup', GROUP);
  await c.alice.waitFor(CbEvents.OnGroupDismissed, g => g?.groupID === GROUP);
  await refuse('afterDismiss', c.alice, 'getGroupMemberList',
    { groupID: GROUP, filter: 0, offset: 0, count: 10 });

  const groupEvents = name => c[name].eventNames().filter(e => e.startsWith('OnGroup') || e.startsWith('OnJoinedGroup'));
  return {
    created,
    asRecipient,
    membersAfterJoin,
    membersAfterRefusals,
    refusals,
    muted: muted.data,
    renamed: renamed.data,
    aliceHistory,
    conversations,
    joinedAfterDismiss: await c.alice.call('getJoinedGroupList'),
    groupEvents: Object.fromEntries(names.map(n => [n, groupEvents(n)])),
    carolMessages: c.carol.receivedMessages().length,
  };
});
