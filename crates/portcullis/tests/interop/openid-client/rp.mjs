// openid-client 6 as an ordinary relying party: configured with the issuer,
// client id and secret only. Prints the authorization URL, reads the
// callback URL from standard input, then prints one JSON line: the ID token
// claims as the library validated them, userinfo, the refreshed tokens, and
// what the library reports for a wrong client secret.
//
// usage: node rp.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
import * as client from 'openid-client'
import { createInterface } from 'node:readline'

const [issuer, clientId, clientSecret, redirectUri] = process.argv.slice(2)
// The test server speaks http on 127.0.0.1; nothing else is configured.
const insecure = { execute: [client.allowInsecureRequests] }
const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, insecure)

const verifier = client.randomPKCECodeVerifier()
const nonce = client.randomNonce()
const state = client.randomState()
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce,
  state,
})
console.log(url.href)

const lines = createInterface({ input: process.stdin })
const callback = await new Promise((resolve) => lines.once('line', resolve))
lines.close()

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedNonce: nonce,
  expectedState: state,
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)

const wrong = await client.discovery(new URL(issuer), clientId, 'not the secret', undefined, insecure)
let wrongSecret = null
try {
  await client.refreshTokenGrant(wrong, refreshed.refresh_token)
} catch (err) {
  // A 401 surfaces as WWWAuthenticateChallengeError, the parsed challenges
  // in `cause`; a body error as ResponseBodyError with `error`.
  const challenge = Array.isArray(err.cause) ? err.cause[0] : undefined
  wrongSecret = {
    name: err.name,
    error: err.error ?? challenge?.parameters?.error ?? null,
    error_description: err.error_description ?? challenge?.parameters?.error_description ?? null,
    status: err.status ?? null,
  }
}

console.log(JSON.stringify({
  claims,
  userinfo,
  refreshed: {
    has_access_token: typeof refreshed.access_token === 'string',
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    id_token_sub: refreshed.claims()?.sub ?? null,
  },
  wrong_secret: wrongSecret,
}))
