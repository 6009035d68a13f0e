// The national identity provider (VNeID through the portal's single sign-on) as motcua's
// tests meet it: a real OpenID Connect provider (the npm `oidc-provider`), one registered
// client for motcua and a second one for another service, citizens whose claims carry the
// 12-digit personal identification number, and switches that produce the failures a real
// provider can (an ID token for another audience, a clock that makes tokens come out
// expired). Stopping the process is "provider down".
//
//   node provider.mjs [--port N] --redirect-uri URL [--post-logout-redirect-uri URL]
//        [--client-id ID] [--client-secret S] [--other-client-id ID]
//        [--clock-offset SECONDS] [--audience CLIENT_ID]
//        [--account JSON]...
//
// Prints `ready PORT` on stdout once it listens on 127.0.0.1. The issuer is
// http://127.0.0.1:PORT. Sign-in is plain HTTP: the interaction page is a form with one
// field, `id` (the citizen's personal identification number); posting it signs that citizen
// in and consent is implied for the registered clients. Every request is logged on stderr.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader, SignJWT, importJWK } from 'jose';
import Provider from 'oidc-provider';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'motcua' },
    'client-secret': { type: 'string', default: 'motcua-secret' },
    'other-client-id': { type: 'string', default: 'other-service' },
    'other-client-secret': { type: 'string', default: 'other-secret' },
    // Seconds added to this provider's clock: -7200 issues tokens that expired an hour ago.
    'clock-offset': { type: 'string', default: '0' },
    // Sign ID tokens for this audience instead of the client that asked.
    audience: { type: 'string' },
    account: { type: 'string', multiple: true, default: [] },
  },
});

const offset = Number(opt['clock-offset']) * 1000;
if (offset) {
  const realNow = Date.now;
  Date.now = () => realNow() + offset;
}

// Citizens: `sub` is the personal identification number; `so_dinh_danh` repeats it under
// the name some integrations use.
const accounts = new Map();
const defaults = [
  { sub: '001090001234', name: 'Nguyễn Văn An', phone_number: '0912000111', birthdate: '1990-03-02' },
  { sub: '079185004321', name: 'Trần Thị Bình', email: 'binh@example.vn', birthdate: '1985-11-20' },
];
for (const a of [...defaults, ...opt.account.map((j) => JSON.parse(j))]) {
  accounts.set(a.sub, { so_dinh_danh: a.sub, ...a });
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'sim-1', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(opt.port), '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const clients = [
  {
    client_id: opt['client-id'],
    client_secret: opt['client-secret'],
    redirect_uris: opt['redirect-uri'],
    post_logout_redirect_uris: opt['post-logout-redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: opt['other-client-id'],
    client_secret: opt['other-client-secret'],
    redirect_uris: opt['redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  },
];

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  // The profile claims go into the ID token, as the national platform's do.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'so_dinh_danh'],
    profile: ['name', 'birthdate'],
    phone: ['phone_number'],
    email: ['email'],
  },
  scopes: ['openid', 'profile', 'phone', 'email'],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['sim-cookie-key'] },
  // ID tokens live an hour; the browser's interaction and session outlive a clock offset
  // of a few hours, so that only the tokens come out expired.
  ttl: { AuthorizationCode: 300, IdToken: 3600, AccessToken: 3600, Interaction: 14400, Session: 86400, Grant: 86400 },
  async findAccount(ctx, sub) {
    const a = accounts.get(sub);
    if (!a) return undefined;
    return { accountId: sub, async claims() { return { ...a }; } };
  },
  // Consent is implied: the national platform asks it once for all the public services.
  async loadExistingGrant(ctx) {
    const known = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (known) return ctx.oidc.provider.Grant.find(known);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile phone email');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});

const page = (body) => `<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>VNeID (simulator)</title></head><body>${body}</body></html>`;

function form(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

// ID tokens re-signed for another audience, when asked to (`--audience`).
async function retarget(body) {
  const json = JSON.parse(body);
  if (!json.id_token) return body;
  const claims = decodeJwt(json.id_token);
  const header = decodeProtectedHeader(json.id_token);
  claims.aud = opt.audience;
  json.id_token = await new SignJWT(claims).setProtectedHeader(header).sign(await importJWK(signingJwk, 'RS256'));
  return JSON.stringify(json);
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  process.stderr.write(`${req.method} ${req.url}\n`);
  try {
    const m = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
    if (m && req.method === 'GET' && !m[2]) {
      const details = await provider.interactionDetails(req, res);
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(page(`<h1>Đăng nhập VNeID</h1><p>${details.prompt.name}</p>
        <form method="post" action="/interaction/${m[1]}/login">
        <label for="id">Số định danh cá nhân</label><input id="id" name="id">
        <button type="submit">Đăng nhập</button></form>`));
      return;
    }
    if (m && req.method === 'POST' && m[2]) {
      const id = (await form(req)).get('id') || '';
      if (!accounts.has(id)) {
        res.statusCode = 400;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(page('<p>Số định danh không đúng.</p>'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: id } }, { mergeWithLastSubmission: false });
      return;
    }
    if (opt.audience && req.method === 'POST' && req.url.startsWith('/token')) {
      // Let the provider answer into a buffer, then change the token's audience.
      const chunks = [];
      const realWrite = res.write.bind(res);
      const realEnd = res.end.bind(res);
      res.write = (c) => { chunks.push(Buffer.from(c)); return true; };
      res.end = (c) => {
        if (c) chunks.push(Buffer.from(c));
        const body = Buffer.concat(chunks).toString();
        retarget(body).then((b) => {
          res.removeHeader('content-length');
          res.write = realWrite;
          realEnd(b);
        }, () => realEnd(body));
        return res;
      };
    }
    callback(req, res);
  } catch (e) {
    process.stderr.write(`error: ${e.stack || e}\n`);
    res.statusCode = 500;
    res.end(String(e.message || e));
  }
});

process.stdout.write(`ready ${port}\n`);
