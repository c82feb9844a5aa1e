#!/usr/bin/env python3
"""Python reference for Warden's HS256 benchmark: PyJWT plus the checks of
policies/default.yaml written in Python, on the token file of `warden-bench-tokens`.

Usage: pyjwt_validate.py DIR [SECONDS]
DIR contains tokens.txt, secret.bin and now.txt. Prints one JSON object on stdout with the
mean time per token in nanoseconds, on one core.
"""

import hashlib
import json
import sys
import time
import unicodedata

import jwt

MAX_AGE = 30 * 86_400
SUSPICIOUS_ROLES = {"superadmin", "root", "master"}
MAX_PERMISSIONS = 10
WARN_AFTER = 1000
REQUIRED = ("sub", "iat", "exp")


def normalize_role(role):
    """NFKC, case folding and trimming, as Warden's normalize_role (without its list of
    invisible characters)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", role).casefold()).strip()


class Validator:
    """The default policy's rules on top of PyJWT's signature and `exp` checks."""

    def __init__(self, secret, now):
        self.secret = secret
        self.now = now
        self.revoked_hashes = set()
        self.revoked_jtis = set()
        self.usage = {}

    def validate(self, token):
        """Return (allowed, findings) for one compact token."""
        findings = []
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": list(REQUIRED), "verify_aud": False},
            )
        except jwt.InvalidTokenError as error:
            return False, [("error", type(error).__name__)]
        signing_input = token.rsplit(".", 1)[0].encode()
        token_hash = hashlib.sha256(signing_input).digest()
        if token_hash in self.revoked_hashes or claims.get("jti") in self.revoked_jtis:
            findings.append(("error", "token.revoked"))
        uses = self.usage.get(token_hash, 0) + 1
        self.usage[token_hash] = uses
        if uses > WARN_AFTER:
            findings.append(("warning", "usage.exceeded"))
        now = self.now
        if claims["exp"] <= now:
            findings.append(("error", "token.expired"))
        if claims["iat"] > now:
            findings.append(("error", "token.issued_in_future"))
        if now - claims["iat"] > MAX_AGE:
            findings.append(("warning", "token.too_old"))
        roles = []
        if isinstance(claims.get("role"), str):
            roles.append(claims["role"])
        listed = claims.get("roles")
        if isinstance(listed, str):
            roles.append(listed)
        elif isinstance(listed, list):
            roles.extend(role for role in listed if isinstance(role, str))
        for role in roles:
            if normalize_role(role) in SUSPICIOUS_ROLES:
                findings.append(("warning", "role.suspicious"))
        permissions = claims.get("permissions")
        if isinstance(permissions, list) and len(permissions) > MAX_PERMISSIONS:
            findings.append(("warning", "permissions.too_many"))
        if "jti" not in claims:
            findings.append(("warning", "jti.missing"))
        allowed = not any(severity == "error" for severity, _ in findings)
        return allowed, findings


def main():
    directory = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    with open(f"{directory}/tokens.txt", encoding="ascii") as file:
        tokens = [line.strip() for line in file if line.strip()]
    with open(f"{directory}/secret.bin", "rb") as file:
        secret = file.read()
    with open(f"{directory}/now.txt", encoding="ascii") as file:
        now = int(file.read())
    validator = Validator(secret, now)
    if not all(validator.validate(token)[0] for token in tokens):
        sys.exit("a fixture token was denied; the reference is not checking what Warden checks")
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for token in tokens:
            validator.validate(token)
        count += len(tokens)
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "ns_per_token": elapsed / count * 1e9,
        "tokens": count,
        "pyjwt": jwt.__version__,
        "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
