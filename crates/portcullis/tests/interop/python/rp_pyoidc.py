"""pyoidc (PyPI `oic`) as an ordinary relying party: configured with the
issuer, client id and secret only, with the library's defaults (no PKCE,
a nonce, userinfo by POST with the token in the body). Prints the
authorization URL, reads the callback URL from standard input, then prints
one JSON line: the ID token claims as the library verified them, userinfo,
and the refresh.

usage: python3 rp_pyoidc.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
"""

import json
import sys
from urllib.parse import urlparse

from oic import rndstr
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]
client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
client.provider_config(issuer)
client.store_registration_info(
    RegistrationResponse(
        client_id=client_id, client_secret=client_secret, redirect_uris=[redirect_uri]
    )
)
state, nonce = rndstr(), rndstr()
request = client.construct_AuthorizationRequest(
    request_args={
        "client_id": client_id,
        "response_type": "code",
        "scope": ["openid", "profile", "email", "offline_access"],
        "nonce": nonce,
        "redirect_uri": redirect_uri,
        "state": state,
    }
)
print(request.request(client.authorization_endpoint), flush=True)

callback = sys.stdin.readline().strip()
response = client.parse_response(
    AuthorizationResponse, info=urlparse(callback).query, sformat="urlencoded"
)
assert response["state"] == state, response
tokens = client.do_access_token_request(
    state=state,
    request_args={"code": response["code"]},
    authn_method="client_secret_basic",
)
claims = tokens["id_token"].to_dict()
assert claims["nonce"] == nonce, claims
userinfo = client.do_user_info_request(state=state)
refreshed = client.do_access_token_refresh(state=state, authn_method="client_secret_basic")
print(
    json.dumps(
        {
            "claims": claims,
            "userinfo": userinfo.to_dict(),
            "refreshed": {"has_access_token": "access_token" in refreshed},
        }
    ),
    flush=True,
)
