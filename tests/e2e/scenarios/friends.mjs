// The friend application flow between alice and bob with carol logged in as a bystander:
// apply, list, accept (both become friends), remark, search, delete (one direction); then
// carol applies to bob and is refused, with alice as the bystander. Every callback is
// recorded per client so the test can check who heard of what.
import { CbEvents, callbackEventNames, runScenario, settle } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const carol = await ctx.loggedInClient('carol');
  const start = { alice: alice.mark(), bob: bob.mark(), carol: carol.mark() };
  const waitFor = (client, event) => client.waitFor(event).then(r => r.data);

  await alice.call('addFriend', { toUserID: bob.userID, reqMsg: 'hello bob', ex: 'ex-1' });
  const applied = {
    alice: await waitFor(alice, CbEvents.OnFriendApplicationAdded),
    bob: await waitFor(bob, CbEvents.OnFriendApplicationAdded),
  };
  const lists = {
    bobReceived: await bob.call('getFriendApplicationListAsRecipient'),
    aliceSent: await alice.call('getFriendApplicationListAsApplicant'),
  };

  await bob.call('acceptFriendApplication', { toUserID: alice.userID, handleMsg: 'welcome' });
  const accepted = {
    alice: await waitFor(alice, CbEvents.OnFriendApplicationAccepted),
    bob: await waitFor(bob, CbEvents.OnFriendApplicationAccepted),
  };
  const added = {
    alice: await waitFor(alice, CbEvents.OnFriendAdded),
    bob: await waitFor(bob, CbEvents.OnFriendAdded),
  };
  const friendLists = {
    alice: await alice.call('getFriendList'),
    bob: await bob.call('getFriendList'),
    carol: await carol.call('getFriendList'),
  };
  const checked = await alice.call('checkFriend', [bob.userID, carol.userID]);
  const specified = await alice.call('getSpecifiedFriendsInfo', [bob.userID, carol.userID]);
  await settle(alice, bob, carol);
  const carolAfterFriendship = callbackEventNames(carol, start.carol);

  const remarkMark = bob.mark();
  await alice.call('setFriendRemark', { toUserID: bob.userID, remark: 'Bobby' });
  const remarked = await waitFor(alice, CbEvents.OnFriendInfoChanged);
  const searched = await alice.call('searchFriends', {
    keywordList: ['bobb'],
    isSearchUserID: false,
    isSearchNickname: false,
    isSearchRemark: true,
  });

  await alice.call('deleteFriend', bob.userID);
  const deleted = await waitFor(alice, CbEvents.OnFriendDeleted);
  const afterDelete = {
    alice: await alice.call('getFriendList'),
    bob: await bob.call('getFriendList'),
  };
  await settle(bob);
  const bobAfterRemarkAndDelete = callbackEventNames(bob, remarkMark);

  // carol applies to bob, bob refuses; alice is the bystander now.
  const aliceMark = alice.mark();
  await carol.call('addFriend', { toUserID: bob.userID, reqMsg: 'hi, carol here' });
  await bob.waitFor(CbEvents.OnFriendApplicationAdded, d => d?.fromUserID === carol.userID);
  await bob.call('refuseFriendApplication', { toUserID: carol.userID, handleMsg: 'no thanks' });
  const rejected = {
    carol: await waitFor(carol, CbEvents.OnFriendApplicationRejected),
    bob: await waitFor(bob, CbEvents.OnFriendApplicationRejected),
  };
  const carolFriends = await carol.call('getFriendList');
  await settle(alice, bob, carol);

  return {
    applied,
    lists,
    accepted,
    added,
    friendLists,
    checked,
    specified,
    remarked,
    searched,
    deleted,
    afterDelete,
    rejected,
    carolFriends,
    carolAfterFriendship,
    bobAfterRemarkAndDelete,
    aliceDuringRefusal: callbackEventNames(alice, aliceMark),
    events: {
      alice: callbackEventNames(alice, start.alice),
      bob: callbackEventNames(bob, start.bob),
      carol: callbackEventNames(carol, start.carol),
    },
  };
});
