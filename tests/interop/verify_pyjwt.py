"""Verifies an Authify token with PyJWT from the live JWKS, as the authify-verify README shows.

Input in the environment: JWKS_URL, TOKEN, TAMPERED (the same token with a changed payload), ISSUER.
Prints the verified `sub`; exits non-zero if the token fails or the tampered one passes.
"""
import os
import sys

import jwt

jwks = jwt.PyJWKClient(os.environ["JWKS_URL"])


def verify(token):
    key = jwks.get_signing_key_from_jwt(token)  # the key the header's kid names
    return jwt.decode(
        token,
        key.key,
        algorithms=[key.algorithm_name],  # pinned by the key: ES256, ES384 or ES512
        issuer=os.environ["ISSUER"],
        options={"require": ["exp", "iss", "sub"]},
    )


claims = verify(os.environ["TOKEN"])
try:
    verify(os.environ["TAMPERED"])
    sys.exit("the tampered token verified")
except jwt.InvalidSignatureError:
    pass
print(claims["sub"])
