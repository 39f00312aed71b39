"""requests-oauthlib (PyPI) as an ordinary OAuth 2.0 client of Portcullis,
as its tutorials use it: discovery read by hand, the code flow with PKCE
(S256), the token fetched with the client secret (HTTP Basic, its default),
userinfo with the bearer token, and a refresh. Prints the authorization URL,
reads the callback URL from standard input, then prints one JSON line.

usage: python3 rp_requests_oauthlib.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
"""

import json
import os
import sys

import requests
from requests_oauthlib import OAuth2Session

issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]
# The test server speaks http on 127.0.0.1; oauthlib refuses that otherwise.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
session = OAuth2Session(
    client_id,
    redirect_uri=redirect_uri,
    scope=["openid", "profile", "email", "offline_access"],
    pkce="S256",
)
url, state = session.authorization_url(metadata["authorization_endpoint"], nonce="n-requests")
print(url, flush=True)

callback = sys.stdin.readline().strip()
token = session.fetch_token(
    metadata["token_endpoint"], authorization_response=callback, client_secret=client_secret
)
userinfo = session.get(metadata["userinfo_endpoint"], timeout=10)
refreshed = session.refresh_token(
    metadata["token_endpoint"], auth=(client_id, client_secret), timeout=10
)
print(
    json.dumps(
        {
            "token_type": token["token_type"],
            "has_id_token": "id_token" in token,
            "userinfo_status": userinfo.status_code,
            "userinfo": userinfo.json(),
            "refreshed": {
                "has_access_token": "access_token" in refreshed,
                "rotated": refreshed.get("refresh_token") != token.get("refresh_token"),
            },
        }
    ),
    flush=True,
)
