// The Node `openid-client` package (v6), an independent certified OpenID Connect client, driving
// Castellan from a test. Each command prints one JSON line with what it got.
// Usage: node openid_client.mjs register ISSUER SCOPE [INITIAL_ACCESS_TOKEN]
//        node openid_client.mjs par ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI SCOPE
//        node openid_client.mjs jar ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI SCOPE
//        node openid_client.mjs device ISSUER CLIENT_ID SCOPE
//        node openid_client.mjs dpop ISSUER CLIENT_ID CLIENT_SECRET USERNAME PASSWORD
// `device` prints two lines: the device authorization (for the person to act on), then what
// polling got.
import * as client from 'openid-client';

const [command, issuer, ...rest] = process.argv.slice(2);
const insecure = { execute: [client.allowInsecureRequests] };

async function register(scope, initialAccessToken) {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'openid-client registration',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      scope,
    },
    undefined,
    { ...insecure, initialAccessToken },
  );
  const meta = config.clientMetadata();
  const tokens = await client.clientCredentialsGrant(config, { scope });
  return {
    client_id: meta.client_id,
    registration_client_uri: meta.registration_client_uri,
    registration_access_token: meta.registration_access_token,
    scope: tokens.scope,
    access_token: tokens.access_token,
  };
}

async function par(clientId, clientSecret, redirectUri, scope) {
  const config = await client.discovery(
    new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure,
  );
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, code_verifier: codeVerifier, state };
}

// A request object (RFC 9101) signed with a new ES256 key; the public key is printed for the
// test to register on the client.
async function jar(clientId, clientSecret, redirectUri, scope) {
  const config = await client.discovery(
    new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure,
  );
  const { privateKey, publicKey } = await crypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'],
  );
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = await client.buildAuthorizationUrlWithJAR(config, {
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  }, { key: privateKey, kid: 'node-jar' });
  return {
    url: url.href,
    code_verifier: codeVerifier,
    state,
    jwk: { kty, crv, x, y, kid: 'node-jar', alg: 'ES256', use: 'sig' },
  };
}

// DPoP (RFC 9449) with a new ES256 key: a password grant (openid-client's generic grant), a
// refresh and userinfo, each with a proof; the library answers use_dpop_nonce by itself.
async function dpop(clientId, clientSecret, username, password) {
  const config = await client.discovery(
    new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), insecure,
  );
  const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const tokens = await client.genericGrantRequest(
    config, 'password', { username, password, scope: 'openid email offline_access' }, { DPoP },
  );
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  const info = await client.fetchUserInfo(config, refreshed.access_token, client.skipSubjectCheck, { DPoP });
  return {
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: refreshed.access_token,
    email: info.email,
    sub: info.sub,
  };
}

async function device(clientId, scope) {
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), insecure);
  const started = await client.initiateDeviceAuthorization(config, { scope });
  console.log(JSON.stringify({
    user_code: started.user_code,
    verification_uri: started.verification_uri,
    verification_uri_complete: started.verification_uri_complete,
    interval: started.interval,
  }));
  const tokens = await client.pollDeviceAuthorizationGrant(config, started);
  const claims = tokens.claims();
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    scope: tokens.scope,
    sub: claims?.sub,
    aud: claims?.aud,
  };
}

try {
  let out;
  if (command === 'register') {
    out = await register(rest[0], rest[1] || undefined);
  } else if (command === 'par') {
    out = await par(...rest);
  } else if (command === 'jar') {
    out = await jar(...rest);
  } else if (command === 'dpop') {
    out = await dpop(...rest);
  } else if (command === 'device') {
    out = await device(...rest);
  } else {
    throw new Error(`unknown command ${command}`);
  }
  console.log(JSON.stringify(out));
} catch (e) {
  console.log(JSON.stringify({ error: e.code || e.name, message: e.message, cause: e.cause ?? null }));
  process.exitCode = 1;
}
