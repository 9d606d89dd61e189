// alice changes her profile on Web with her iOS device, her friend bob and the stranger carol
// logged in: her devices get OnSelfInfoUpdated, bob gets OnFriendInfoChanged, carol nothing.
// Then user information as bob and carol see it, and the global receive option.
import { CbEvents, callbackEventNames, runScenario, settle } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const alicePhone = await ctx.loggedInClient('alice_phone');
  const bob = await ctx.loggedInClient('bob');
  const carol = await ctx.loggedInClient('carol');

  await alice.call('addFriend', { toUserID: bob.userID, reqMsg: '' });
  await bob.call('acceptFriendApplication', { toUserID: alice.userID, handleMsg: '' });
  await bob.waitFor(CbEvents.OnFriendAdded);
  await alice.waitFor(CbEvents.OnFriendAdded);
  await settle(alice, alicePhone, bob, carol);
  const marks = { phone: alicePhone.mark(), bob: bob.mark(), carol: carol.mark() };

  const before = await alice.call('getSelfUserInfo');
  await alice.call('setSelfInfo', { ...before, nickname: 'Alicia', faceURL: 'https://face/new' });
  const selfUpdated = {
    web: (await alice.waitFor(CbEvents.OnSelfInfoUpdated)).data,
    phone: (await alicePhone.waitFor(CbEvents.OnSelfInfoUpdated)).data,
  };
  const friendChanged = (await bob.waitFor(CbEvents.OnFriendInfoChanged)).data;
  const after = await alice.call('getSelfUserInfo');
  const asBob = await bob.call('getUsersInfoWithCache', { userIDList: [alice.userID, 'nobody'] });
  const asCarol = await carol.call('getUsersInfoWithCache', { userIDList: [alice.userID] });
  const bobFriends = await bob.call('getFriendList');
  await settle(alicePhone, bob, carol);
  const profileEvents = {
    phone: callbackEventNames(alicePhone, marks.phone),
    bob: callbackEventNames(bob, marks.bob),
    carol: callbackEventNames(carol, marks.carol),
  };

  const optMark = bob.mark();
  await alice.call('setGlobalRecvMessageOpt', 2);
  const optUpdated = (
    await alice.waitFor(CbEvents.OnSelfInfoUpdated, d => d?.globalRecvMsgOpt === 2)
  ).data;
  const badOpt = await alice.callExpectingError('setGlobalRecvMessageOpt', 7);
  const badNickname = await alice.callExpectingError('setSelfInfo', { nickname: 42 });
  await settle(bob);

  return {
    before,
    selfUpdated,
    friendChanged,
    after,
    asBob,
    asCarol,
    bobFriends,
    profileEvents,
    optUpdated,
    bobEventsAfterOpt: callbackEventNames(bob, optMark),
    badOpt,
    badNickname,
    final: await alice.call('getSelfUserInfo'),
  };
});
