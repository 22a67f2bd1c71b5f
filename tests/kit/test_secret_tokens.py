import hashlib

from portal.apikeys.secrets import PREFIX, well_formed
from portal.kit.secret_tokens import new_secret_token, secret_digest


def test_a_new_token_is_its_prefix_and_256_random_bits_stored_as_its_sha256() -> None:
    tokens = [new_secret_token(PREFIX) for _ in range(100)]

    assert len({token for token, _ in tokens}) == 100
    for token, stored in tokens:
        assert well_formed(token)  # the shape API keys are checked against before any lookup
        assert stored == secret_digest(token) == hashlib.sha256(token.encode()).hexdigest()
