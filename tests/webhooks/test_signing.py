import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from portal.webhooks.signing import new_secret, sign

BODY = b'{"type":"webhook.test","timestamp":"2025-01-01T00:00:00Z","data":{"message":"h\xc3\xa9llo"}}'


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second


def test_the_official_library_verifies_a_signed_delivery() -> None:
    secret = new_secret()
    headers = sign([secret], "msg_2abc", datetime.now(UTC), BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "msg_2abc"
    assert Webhook(secret).verify(BODY, headers)["data"]["message"] == "héllo"


def test_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    secret = new_secret()
    moment = datetime(2025, 3, 1, 12, 0, 7, 900_000, tzinfo=UTC)
    headers = sign([secret], "msg_1", moment, BODY)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, b"msg_1.1740830407." + BODY, hashlib.sha256).digest())
    assert headers["webhook-timestamp"] == "1740830407"
    assert headers["webhook-signature"] == "v1," + expected.decode()


def test_during_rotation_either_secret_verifies() -> None:
    new, old = new_secret(), new_secret()
    headers = sign([new, old], "msg_rot", datetime.now(UTC), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_non_utc_timestamp_means_the_same_instant() -> None:
    secret = new_secret()
    instant = datetime.now(UTC)
    in_berlin = instant.astimezone(timezone(timedelta(hours=2)))
    assert sign([secret], "m", in_berlin, BODY) == sign([secret], "m", instant, BODY)
    Webhook(secret).verify(BODY, sign([secret], "m", in_berlin, BODY))


def test_tampering_is_detected_by_the_library() -> None:
    secret = new_secret()
    headers = sign([secret], "msg_t", datetime.now(UTC), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"webhook.test", b"webhook.tesT"), headers)


@pytest.mark.parametrize(
    ("secrets", "msg_id", "timestamp", "body"),
    [
        ([], "m", datetime.now(UTC), BODY),
        (["whsec_" + "A" * 44], "", datetime.now(UTC), BODY),
        (["whsec_" + "A" * 44], "has space", datetime.now(UTC), BODY),
        (["whsec_" + "A" * 44], "line\nbreak", datetime.now(UTC), BODY),
        (["whsec_" + "A" * 44], "m", datetime(2025, 1, 1), BODY),
        (["whsec_" + "A" * 44], "m", datetime.now(UTC), b"\xff not utf-8"),
    ],
)
def test_refuses_what_no_receiver_could_verify(
    secrets: list[str], msg_id: str, timestamp: datetime, body: bytes
) -> None:
    with pytest.raises(ValueError):
        sign(secrets, msg_id, timestamp, body)
