// alice and bob log in with the real client; report the pushes seen before each login
// resolved, getLoginStatus and getLoginUserID.
import { runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const result = {};
  for (const name of ['alice', 'bob']) {
    const client = ctx.client(name);
    await client.login();
    result[name] = {
      eventsUntilLoginResolved: client.eventNames().slice(
        0,
        client.eventNames().indexOf('@LoginResolved') + 1
      ),
      loginStatus: await client.call('getLoginStatus'),
      loginUserID: await client.call('getLoginUserID'),
    };
  }
  return result;
});
