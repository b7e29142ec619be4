"""RFC 7523 JWT bearer and RFC 8693 token exchange against Castellan, driven by Authlib's OAuth 2.0
client (an independent implementation). Run by the API test suite (`exchange::authlib_…`), which
starts the server, configures it and passes what the script needs in the environment."""

import base64
import os
import sys
import time
import uuid

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import JWTBearerGrant

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
AT = "urn:ietf:params:oauth:token-type:access_token"

env = os.environ
token_url = env["TOKEN_URL"]
server_keys = JsonWebKey.import_key_set(requests.get(env["JWKS_URL"], timeout=5).json())


def verified(token):
    """The claims of an access token, its signature checked against the server's JWKS."""
    claims = jwt.decode(token, server_keys)
    claims.validate()
    return claims


# JWT bearer: the client signs an assertion about carol with its own key.
der = base64.urlsafe_b64decode(env["JB_KEY_DER"] + "=" * (-len(env["JB_KEY_DER"]) % 4))
pem = "-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(der).decode() + "-----END PRIVATE KEY-----\n"
client_key = JsonWebKey.import_key(pem, {"kty": "EC"})
bearer = OAuth2Session(env["JB_ID"], env["JB_SECRET"], token_endpoint_auth_method="client_secret_basic")
now = int(time.time())
assertion = JWTBearerGrant.sign(
    client_key,
    issuer=env["JB_ID"],
    audience=token_url,
    subject="carol",
    issued_at=now,
    expires_at=now + 60,
    claims={"jti": str(uuid.uuid4())},
    header={"alg": "ES256", "kid": env["JB_KID"]},
)
token = bearer.fetch_token(token_url, grant_type=JWTBearerGrant.GRANT_TYPE, assertion=assertion, scope="orders.read")
claims = verified(token["access_token"])
assert claims["sub"] == "carol", claims
assert claims["client_id"] == env["JB_ID"], claims
assert token["scope"] == "orders.read", token

# The same assertion again is a replay.
try:
    bearer.fetch_token(token_url, grant_type=JWTBearerGrant.GRANT_TYPE, assertion=assertion)
    sys.exit("a replayed assertion was accepted")
except Exception as e:  # Authlib raises its OAuthError with the server's error code
    assert "invalid_grant" in str(e), e

# Token exchange: svc acts for alice (a token of the partner server), with its own token as the
# actor token.
svc = OAuth2Session(env["SVC_ID"], env["SVC_SECRET"], token_endpoint_auth_method="client_secret_basic")
own = svc.fetch_token(token_url, grant_type="client_credentials")["access_token"]
exchanged = svc.fetch_token(
    token_url,
    grant_type=EXCHANGE,
    subject_token=env["SUBJECT_TOKEN"],
    subject_token_type=AT,
    actor_token=own,
    actor_token_type=AT,
    audience="svc2",
)
assert exchanged["issued_token_type"] == AT, exchanged
claims = verified(exchanged["access_token"])
assert claims["sub"] == "alice", claims
assert claims["act"] == {"sub": env["SVC_ID"]}, claims
assert claims["aud"] == ["svc2"], claims

# A scope the client may not have.
try:
    svc.fetch_token(token_url, grant_type=EXCHANGE, subject_token=env["SUBJECT_TOKEN"], subject_token_type=AT, scope="orders.write")
    sys.exit("a scope beyond the client's was granted")
except Exception as e:
    assert "invalid_scope" in str(e), e

print("authlib: jwt bearer and token exchange ok")
