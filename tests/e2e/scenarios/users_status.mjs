// carol watches alice's online status: each platform of alice coming and going is pushed to
// carol (OnUserStatusChanged), including a socket that closes without logging out; bob, who
// did not subscribe, hears nothing; after unsubscribing carol hears nothing either.
import { CbEvents, callbackEventNames, runScenario, settle } from '../lib.mjs';

runScenario(async ctx => {
  const carol = await ctx.loggedInClient('carol');
  const bob = await ctx.loggedInClient('bob');
  const bobMark = bob.mark();
  const aliceID = ctx.account('alice_web').userID;
  let seen = carol.mark();
  const nextStatus = async label => {
    const record = await carol.waitFor(CbEvents.OnUserStatusChanged, () => true, {
      since: seen,
      label,
    });
    seen = record.index + 1;
    return record.data;
  };

  const subscribed = await carol.call('subscribeUsersStatus', [aliceID]);
  const changes = [];
  const aliceWeb = await ctx.loggedInClient('alice_web');
  changes.push(await nextStatus('alice online on Web'));
  const alicePhone = await ctx.loggedInClient('alice_phone');
  changes.push(await nextStatus('alice online on iOS too'));
  const whileOnline = await carol.call('getSubscribeUsersStatus');
  await alicePhone.call('logout');
  alicePhone.loggedIn = false;
  changes.push(await nextStatus('alice iOS logged out'));
  await aliceWeb.call('logout');
  aliceWeb.loggedIn = false;
  changes.push(await nextStatus('alice offline'));

  // A socket that just closes: the server notices and tells the watcher.
  const account = ctx.account('alice_web');
  const raw = await ctx.rawSocket('alice_raw', account);
  await raw.request('Login', JSON.stringify([account.userID, account.token]), {
    userID: account.userID,
  });
  changes.push(await nextStatus('alice online on a raw socket'));
  raw.close();
  changes.push(await nextStatus('alice offline after the socket closed'));

  await carol.call('unsubscribeUsersStatus', [aliceID]);
  const afterUnsubscribe = await carol.call('getSubscribeUsersStatus');
  const quietMark = carol.mark();
  const again = await ctx.loggedInClient('alice_again', account);
  await settle(again, carol, bob);

  return {
    subscribed,
    changes,
    whileOnline,
    afterUnsubscribe,
    carolAfterUnsubscribe: callbackEventNames(carol, quietMark),
    bobEvents: callbackEventNames(bob, bobMark),
  };
});
