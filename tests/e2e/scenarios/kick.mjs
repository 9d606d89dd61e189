// Second login on the same platform kicks the first; another platform coexists.
//  1. a raw socket logs in as bob on Web (5); the SDK client bob_a logs in on Web too:
//     the raw socket must get OnKickedOffline and be closed by the server.
//  2. bob_b logs in on Web: bob_a gets OnKickedOffline.
//  3. bob_phone logs in on iOS (1): bob_b is not kicked; both receive alice's next message.
import { CbEvents, runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bobWeb = ctx.account('bob_web');

  const raw = await ctx.rawSocket('bob_raw', bobWeb);
  const rawLogin = await raw.request('Login', JSON.stringify([bobWeb.userID, bobWeb.token]), {
    userID: bobWeb.userID,
  });
  const rawMark = raw.log.records.length;
  const bobA = await ctx.loggedInClient('bob_a', bobWeb);
  const rawKick = await raw.log.waitFor(r => r.event === CbEvents.OnKickedOffline, {
    since: rawMark,
    label: 'OnKickedOffline on the raw socket',
  });
  let rawClosed = null;
  try {
    rawClosed = (await raw.log.waitFor(r => r.event === '@Closed', { label: 'server closing the kicked socket' })).data;
  } catch {
    rawClosed = null; // reported; the Python test decides
  }

  const bobB = await ctx.loggedInClient('bob_b', bobWeb);
  const kickA = await bobA.waitFor(CbEvents.OnKickedOffline, () => true, {
    label: 'OnKickedOffline on bob_a after bob_b logged in on the same platform',
  });
  bobA.loggedIn = false; // the client closed itself

  const bobPhone = await ctx.loggedInClient('bob_phone');
  const message = await alice.sendText(bobWeb.userID, 'to every bob device');
  const onB = await bobB.waitForMessage(message.created.clientMsgID);
  const onPhone = await bobPhone.waitForMessage(message.created.clientMsgID);

  return {
    raw: { login: rawLogin, kick: rawKick.frame, closed: rawClosed },
    bobA: { kick: { errCode: kickA.errCode, data: kickA.data }, events: bobA.eventNames() },
    bobB: {
      events: bobB.eventNames(),
      loginStatus: await bobB.call('getLoginStatus'),
      received: onB.clientMsgID,
    },
    bobPhone: {
      events: bobPhone.eventNames(),
      loginStatus: await bobPhone.call('getLoginStatus'),
      received: onPhone.clientMsgID,
    },
  };
});
