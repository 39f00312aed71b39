// openid-client 6 as a device client (RFC 8628) and, with the device's
// access token as the subject, as a service exchanging it (RFC 8693).
// Prints the verification_uri_complete, polls until the person approves
// (the library honours interval and slow_down), then prints one JSON line:
// the ID token claims as the library validated them, and what the token
// exchange answered.
//
// usage: node device.mjs ISSUER DEVICE_CLIENT_ID EXCHANGER_ID EXCHANGER_SECRET AUDIENCE
import * as client from 'openid-client'

const [issuer, deviceClient, exchangerId, exchangerSecret, audience] = process.argv.slice(2)
// The test server speaks http on 127.0.0.1; nothing else is configured.
const insecure = { execute: [client.allowInsecureRequests] }

const device = await client.discovery(new URL(issuer), deviceClient, undefined, client.None(), insecure)
const started = await client.initiateDeviceAuthorization(device, { scope: 'openid offline_access' })
console.log(started.verification_uri_complete)
const tokens = await client.pollDeviceAuthorizationGrant(device, started)

const service = await client.discovery(new URL(issuer), exchangerId, exchangerSecret, undefined, insecure)
const own = await client.clientCredentialsGrant(service)
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token'
const exchanged = await client.genericGrantRequest(service, 'urn:ietf:params:oauth:grant-type:token-exchange', {
  subject_token: tokens.access_token,
  subject_token_type: accessTokenType,
  actor_token: own.access_token,
  actor_token_type: accessTokenType,
  audience,
})

console.log(JSON.stringify({
  claims: tokens.claims(),
  user_code: started.user_code,
  refresh_token: typeof tokens.refresh_token === 'string',
  exchanged: {
    access_token: exchanged.access_token,
    issued_token_type: exchanged.issued_token_type,
    token_type: exchanged.token_type,
  },
}))
