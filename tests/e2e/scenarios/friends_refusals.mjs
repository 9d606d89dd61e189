// Every refusal of the friend functions, with the code the client's promise rejects with.
// alice and bob are friends, carol has blocked alice; afterwards the lists show nothing
// changed.
import { CbEvents, callbackEventNames, runScenario, settle } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const carol = await ctx.loggedInClient('carol');

  await alice.call('addFriend', { toUserID: bob.userID, reqMsg: '' });
  await bob.call('acceptFriendApplication', { toUserID: alice.userID, handleMsg: '' });
  await alice.waitFor(CbEvents.OnFriendAdded);
  await carol.call('addBlack', { toUserID: alice.userID });
  await settle(alice, bob, carol);
  const marks = { alice: alice.mark(), bob: bob.mark(), carol: carol.mark() };

  const refusals = {
    addSelf: await alice.callExpectingError('addFriend', { toUserID: alice.userID, reqMsg: '' }),
    addUnknown: await alice.callExpectingError('addFriend', { toUserID: 'nobody', reqMsg: '' }),
    addFriendAgain: await alice.callExpectingError('addFriend', { toUserID: bob.userID, reqMsg: '' }),
    addBlockedBy: await alice.callExpectingError('addFriend', { toUserID: carol.userID, reqMsg: '' }),
    addWithoutTarget: await alice.callExpectingError('addFriend', { reqMsg: 'who?' }),
    acceptMissing: await carol.callExpectingError('acceptFriendApplication', {
      toUserID: bob.userID,
      handleMsg: '',
    }),
    refuseMissing: await carol.callExpectingError('refuseFriendApplication', {
      toUserID: bob.userID,
      handleMsg: '',
    }),
    remarkStranger: await alice.callExpectingError('setFriendRemark', {
      toUserID: carol.userID,
      remark: 'x',
    }),
    deleteStranger: await alice.callExpectingError('deleteFriend', carol.userID),
    blockSelf: await alice.callExpectingError('addBlack', { toUserID: alice.userID }),
    blockUnknown: await alice.callExpectingError('addBlack', { toUserID: 'nobody' }),
    blockAgain: await carol.callExpectingError('addBlack', { toUserID: alice.userID }),
    unblockStranger: await alice.callExpectingError('removeBlack', bob.userID),
    searchWithoutFields: await alice.callExpectingError('searchFriends', {
      keywordList: ['b'],
      isSearchUserID: false,
      isSearchNickname: false,
      isSearchRemark: false,
    }),
  };
  await settle(alice, bob, carol);

  return {
    refusals,
    after: {
      aliceFriends: await alice.call('getFriendList'),
      bobReceived: await bob.call('getFriendApplicationListAsRecipient'),
      carolReceived: await carol.call('getFriendApplicationListAsRecipient'),
      aliceBlacks: await alice.call('getBlackList'),
      carolBlacks: await carol.call('getBlackList'),
    },
    events: {
      alice: callbackEventNames(alice, marks.alice),
      bob: callbackEventNames(bob, marks.bob),
      carol: callbackEventNames(carol, marks.carol),
    },
  };
});
