// Each case tries a login with the real client and reports whether it succeeded; bad tokens
// must make login() reject because the WebSocket upgrade is refused.
import { runScenario } from '../lib.mjs';

runScenario(async ctx => {
  const outcomes = {};
  for (const [name, account] of Object.entries(ctx.config.cases)) {
    const client = ctx.client(name, account);
    try {
      const response = await client.login();
      outcomes[name] = { loggedIn: true, errCode: response.errCode };
      outcomes[name].loginStatus = await client.call('getLoginStatus');
    } catch (error) {
      outcomes[name] = { loggedIn: false, errCode: error.errCode ?? null, error: String(error.message) };
    }
  }
  return outcomes;
});
