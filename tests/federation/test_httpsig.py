"""Tests for the HTTP-signature layer: both schemes signed, parsed and verified, and refused."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from multidict import CIMultiDict

from fediverse_mu.federation import httpsig
from fediverse_mu.federation.httpsig import (
    ParsedSignature,
    SignatureError,
    content_digest_header,
    digest_header,
    key_id_to_actor_hint,
    load_public_key_pem,
    parse_signature,
    sign_cavage,
    sign_rfc9421,
    verify_signature,
)

HOST = "127.0.0.1:8001"
URL = f"http://{HOST}/users/bob/inbox"
KEY_ID = "http://127.0.0.1:8000/users/alice#main-key"
BODY = b'{"type": "Create", "actor": "http://127.0.0.1:8000/users/alice"}'
NOW = datetime(2026, 5, 9, 12, 0, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
NOW_HTTP = "Sat, 09 May 2026 12:00:00 GMT"
ACTIVITY_JSON = "application/activity+json"

Signer = Callable[..., dict[str, str]]
SIGNERS = [pytest.param(sign_cavage, id="cavage"), pytest.param(sign_rfc9421, id="rfc9421")]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def received(added: dict[str, str], **extra: str) -> dict[str, str]:
    """The headers the server sees: the signer's, plus Host and whatever the client adds."""
    return {"Host": HOST, "Content-Type": ACTIVITY_JSON, **added, **extra}


def signed_post(signer: Signer, key: httpsig.SigningKey, body: bytes = BODY) -> dict[str, str]:
    """A POST to URL signed at NOW, as received."""
    return received(
        signer(
            "POST",
            URL,
            {"Content-Type": ACTIVITY_JSON},
            body,
            key_id=KEY_ID,
            private_key=key,
            now=NOW,
        )
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sha256_b64(data: bytes) -> str:
    return b64(hashlib.sha256(data).digest())


def rsa_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def hand_cavage(
    key: rsa.RSAPrivateKey,
    lines: list[tuple[str, str]],
    *,
    algorithm: str = "rsa-sha256",
    extra: str = "",
) -> str:
    """A cavage Signature value built directly with cryptography, not with our signer."""
    signing_string = "\n".join(f"{name}: {value}" for name, value in lines).encode()
    names = " ".join(name for name, _ in lines)
    signature = b64(rsa_sign(key, signing_string))
    return (
        f'keyId="{KEY_ID}",algorithm="{algorithm}",{extra}headers="{names}",signature="{signature}"'
    )


def hand_rfc9421(
    key: rsa.RSAPrivateKey,
    components: list[tuple[str, str]],
    params: str,
    *,
    label: str = "sig1",
    pss: bool = False,
) -> dict[str, str]:
    """RFC 9421 Signature-Input and Signature built directly with cryptography."""
    inner = "(" + " ".join(f'"{name}"' for name, _ in components) + ")" + params
    lines = [f'"{name}": {value}' for name, value in components]
    base = "\n".join([*lines, f'"@signature-params": {inner}']).encode()
    if pss:
        pss_padding = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
        signature = key.sign(base, pss_padding, hashes.SHA512())
    else:
        signature = rsa_sign(key, base)
    return {"Signature-Input": f"{label}={inner}", "Signature": f"{label}=:{b64(signature)}:"}


# --- round trips --------------------------------------------------------------------------


def test_cavage_post_round_trip_with_port(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_cavage(
        "POST",
        URL,
        {"Content-Type": ACTIVITY_JSON},
        BODY,
        key_id=KEY_ID,
        private_key=rsa_key,
        now=NOW,
    )
    assert added["Host"] == HOST
    assert added["Date"] == NOW_HTTP
    assert added["Digest"] == "SHA-256=" + sha256_b64(BODY)
    assert added["Signature"].startswith(
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) host date digest",'
    )

    parsed = parse_signature("POST", URL, added, BODY, now=NOW + timedelta(minutes=5))
    assert parsed.scheme == "cavage"
    assert parsed.key_id == KEY_ID
    assert parsed.algorithm == "rsa-v1_5-sha256"
    assert parsed.created == NOW
    assert (
        parsed.signing_base
        == (
            f"(request-target): post /users/bob/inbox\nhost: {HOST}\ndate: {NOW_HTTP}\n"
            f"digest: {added['Digest']}"
        ).encode()
    )
    verify_signature(parsed, rsa_key.public_key())


def test_cavage_get_round_trip_covers_accept_and_query(rsa_key: rsa.RSAPrivateKey) -> None:
    url = f"http://{HOST}/users/bob/outbox?page=true"
    added = sign_cavage(
        "GET", url, {"accept": ACTIVITY_JSON}, None, key_id=KEY_ID, private_key=rsa_key, now=NOW
    )
    assert "Digest" not in added
    assert 'headers="(request-target) host date accept"' in added["Signature"]

    parsed = parse_signature("GET", url, received(added, Accept=ACTIVITY_JSON), b"", now=NOW)
    assert parsed.covered == ("(request-target)", "host", "date", "accept")
    # The query string belongs to (request-target) (cavage-12 §2.3, Mastodon >= 4.3).
    assert parsed.signing_base.startswith(b"(request-target): get /users/bob/outbox?page=true\n")
    verify_signature(parsed, rsa_key.public_key())


def test_rfc9421_post_round_trip_with_port(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_rfc9421("POST", URL, {}, BODY, key_id=KEY_ID, private_key=rsa_key, now=NOW)
    params = f';created={NOW_TS};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    assert added["Content-Digest"] == f"sha-256=:{sha256_b64(BODY)}:"
    assert added["Signature-Input"] == f'sig1=("@method" "@target-uri" "content-digest"){params}'
    assert added["Signature"].startswith("sig1=:") and added["Signature"].endswith(":")

    parsed = parse_signature("POST", URL, received(added), BODY, now=NOW)
    assert (parsed.scheme, parsed.key_id, parsed.label) == ("rfc9421", KEY_ID, "sig1")
    assert parsed.algorithm == "rsa-v1_5-sha256"
    assert parsed.created == NOW
    assert (
        parsed.signing_base
        == (
            '"@method": POST\n'
            f'"@target-uri": {URL}\n'
            f'"content-digest": {added["Content-Digest"]}\n'
            f'"@signature-params": ("@method" "@target-uri" "content-digest"){params}'
        ).encode()
    )
    verify_signature(parsed, rsa_key.public_key())


def test_rfc9421_get_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    url = f"http://{HOST}/users/bob?x=1"
    added = sign_rfc9421("GET", url, {}, None, key_id=KEY_ID, private_key=rsa_key, now=NOW)
    assert "Content-Digest" not in added
    assert added["Signature-Input"].startswith('sig1=("@method" "@target-uri");created=')

    parsed = parse_signature("GET", url, received(added), b"", now=NOW)
    assert parsed.covered == ("@method", "@target-uri")
    assert f'"@target-uri": {url}\n'.encode() in parsed.signing_base
    verify_signature(parsed, rsa_key.public_key())


def test_default_port_and_case_are_normalised(rsa_key: rsa.RSAPrivateKey) -> None:
    url = "https://B.Test:443/inbox"
    cavage = sign_cavage("POST", url, {}, BODY, key_id=KEY_ID, private_key=rsa_key, now=NOW)
    assert cavage["Host"] == "b.test"
    rfc = sign_rfc9421("POST", url, {}, BODY, key_id=KEY_ID, private_key=rsa_key, now=NOW)
    # The receiver rebuilds the URL from its public scheme and the Host header.
    headers = {**rfc, "Host": "b.test"}
    parsed = parse_signature("POST", "https://b.test/inbox", headers, BODY, now=NOW)
    assert b'"@target-uri": https://b.test/inbox\n' in parsed.signing_base
    verify_signature(parsed, rsa_key.public_key())


def test_hs2019_with_ed25519(ed_key: ed25519.Ed25519PrivateKey, rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_cavage("POST", URL, {}, BODY, key_id=KEY_ID, private_key=ed_key, now=NOW)
    assert 'algorithm="hs2019"' in added["Signature"]
    parsed = parse_signature("POST", URL, added, BODY, now=NOW)
    assert parsed.algorithm is None  # hs2019: the key decides
    verify_signature(parsed, ed_key.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_key.public_key())


def test_hs2019_with_rsa_uses_pkcs1v15_sha256(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = [
        ("(request-target)", "post /users/bob/inbox"),
        ("host", HOST),
        ("date", NOW_HTTP),
        ("digest", "SHA-256=" + sha256_b64(BODY)),
    ]
    signature = hand_cavage(rsa_key, lines, algorithm="hs2019")
    headers = {"Host": HOST, "Date": NOW_HTTP, "Digest": lines[3][1], "Signature": signature}
    verify_signature(parse_signature("POST", URL, headers, BODY, now=NOW), rsa_key.public_key())


def test_rfc9421_with_ed25519(ed_key: ed25519.Ed25519PrivateKey) -> None:
    added = sign_rfc9421("POST", URL, {}, BODY, key_id=KEY_ID, private_key=ed_key, now=NOW)
    assert added["Signature-Input"].endswith(';alg="ed25519"')
    parsed = parse_signature("POST", URL, received(added), BODY, now=NOW)
    assert parsed.algorithm == "ed25519"
    verify_signature(parsed, ed_key.public_key())


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda h: {k.lower(): v for k, v in h.items()}, id="lower"),
        pytest.param(lambda h: {k.upper(): v for k, v in h.items()}, id="upper"),
        pytest.param(CIMultiDict, id="multidict"),
    ],
)
@pytest.mark.parametrize("signer", SIGNERS)
def test_header_lookup_is_case_insensitive(
    rsa_key: rsa.RSAPrivateKey,
    signer: Signer,
    transform: Callable[[dict[str, str]], dict[str, str]],
) -> None:
    headers = transform(signed_post(signer, rsa_key))
    verify_signature(parse_signature("POST", URL, headers, BODY, now=NOW), rsa_key.public_key())


def test_authorization_signature_form(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(sign_cavage, rsa_key)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    verify_signature(parse_signature("POST", URL, headers, BODY, now=NOW), rsa_key.public_key())


# --- known-good vectors -------------------------------------------------------------------


def test_known_good_cavage_vector_built_by_hand(rsa_key: rsa.RSAPrivateKey) -> None:
    # What Mastodon sends: content-type signed too, built without any of our helpers.
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    signing_string = (
        "(request-target): post /users/bob/inbox\n"
        f"host: {HOST}\n"
        f"date: {NOW_HTTP}\n"
        f"digest: {digest}\n"
        f"content-type: {ACTIVITY_JSON}"
    ).encode()
    raw = rsa_key.sign(signing_string, padding.PKCS1v15(), hashes.SHA256())
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Digest": digest,
        "Content-Type": ACTIVITY_JSON,
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
            'headers="(request-target) host date digest content-type",'
            f'signature="{base64.b64encode(raw).decode()}"'
        ),
    }
    parsed = parse_signature("POST", URL, headers, BODY, now=NOW)
    assert parsed.signing_base == signing_string
    assert parsed.signature == raw
    verify_signature(parsed, rsa_key.public_key())


# RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6 (request signed with it).
RFC_B26_PUBLIC_KEY = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
RFC_B26_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Length": "18",
    "Signature-Input": (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    ),
    "Signature": (
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    ),
}
RFC_B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    b';created=1618884473;keyid="test-key-ed25519"'
)


def test_rfc9421_signature_base_matches_rfc_example_b26() -> None:
    # The RFC example covers @path/@authority rather than @target-uri, which our inbox policy
    # refuses, so the base builder is exercised directly; the policy is checked just after.
    url = "https://example.com/foo?param=Value&Pet=dog"
    read = httpsig._read_rfc9421(
        "POST", httpsig._Target.from_url(url), httpsig._lower_headers(RFC_B26_HEADERS)
    )
    assert read.label == "sig-b26"
    assert read.base == RFC_B26_BASE
    public = ed25519.Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(RFC_B26_PUBLIC_KEY + "=")
    )
    parsed = ParsedSignature(
        key_id="test-key-ed25519",
        scheme="rfc9421",
        algorithm=None,
        signing_base=read.base,
        signature=read.signature,
        covered=read.covered,
        created=None,
    )
    verify_signature(parsed, public)
    with pytest.raises(SignatureError, match="@target-uri"):
        parse_signature("POST", url, RFC_B26_HEADERS, b'{"hello": "world"}', now=NOW)


def test_rfc9530_digest_vectors() -> None:
    body = b'{"hello": "world"}'
    assert content_digest_header(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert digest_header(body) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("signer", SIGNERS)
def test_tampered_body_is_rejected(rsa_key: rsa.RSAPrivateKey, signer: Signer) -> None:
    headers = signed_post(signer, rsa_key)
    with pytest.raises(SignatureError, match="does not match the request body"):
        parse_signature("POST", URL, headers, BODY + b" ", now=NOW)


def test_tampered_body_with_recomputed_digest_fails_verification(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    forged = b'{"type": "Delete"}'
    cavage = {**signed_post(sign_cavage, rsa_key), "Digest": digest_header(forged)}
    parsed = parse_signature("POST", URL, cavage, forged, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_key.public_key())
    rfc = {**signed_post(sign_rfc9421, rsa_key), "Content-Digest": content_digest_header(forged)}
    parsed = parse_signature("POST", URL, rfc, forged, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_key.public_key())


def test_tampered_header_value_fails_verification(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(sign_cavage, rsa_key)
    headers["Date"] = "Sat, 09 May 2026 12:00:01 GMT"
    parsed = parse_signature("POST", URL, headers, BODY, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_key.public_key())


def test_other_target_uri_fails_verification(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(sign_rfc9421, rsa_key)
    parsed = parse_signature("POST", f"http://{HOST}/users/carol/inbox", headers, BODY, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, rsa_key.public_key())


@pytest.mark.parametrize("signer", SIGNERS)
def test_wrong_key_is_rejected(
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
    signer: Signer,
) -> None:
    parsed = parse_signature("POST", URL, signed_post(signer, rsa_key), BODY, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(parsed, other_rsa_key.public_key())
    with pytest.raises(SignatureError, match="Ed25519"):
        verify_signature(parsed, ed_key.public_key())


def test_algorithm_must_fit_the_key(rsa_key: rsa.RSAPrivateKey) -> None:
    parsed = parse_signature("POST", URL, signed_post(sign_rfc9421, rsa_key), BODY, now=NOW)
    with pytest.raises(SignatureError, match="cannot be used with an RSA key"):
        verify_signature(dataclasses.replace(parsed, algorithm="ed25519"), rsa_key.public_key())


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(hours=12, minutes=1), "old"),
        (-timedelta(hours=1, minutes=1), "ahead"),
    ],
)
@pytest.mark.parametrize("signer", SIGNERS)
def test_time_window_is_enforced(
    rsa_key: rsa.RSAPrivateKey, signer: Signer, offset: timedelta, reason: str
) -> None:
    headers = signed_post(signer, rsa_key)
    with pytest.raises(SignatureError, match=reason):
        parse_signature("POST", URL, headers, BODY, now=NOW + offset)


@pytest.mark.parametrize("offset", [timedelta(hours=11, minutes=59), -timedelta(minutes=59)])
@pytest.mark.parametrize("signer", SIGNERS)
def test_time_window_edges_are_accepted(
    rsa_key: rsa.RSAPrivateKey, signer: Signer, offset: timedelta
) -> None:
    parsed = parse_signature("POST", URL, signed_post(signer, rsa_key), BODY, now=NOW + offset)
    verify_signature(parsed, rsa_key.public_key())


def test_cavage_post_must_cover_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = [("(request-target)", "post /users/bob/inbox"), ("host", HOST), ("date", NOW_HTTP)]
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Digest": digest_header(BODY),
        "Signature": hand_cavage(rsa_key, lines),
    }
    with pytest.raises(SignatureError, match="must cover digest"):
        parse_signature("POST", URL, headers, BODY, now=NOW)


def test_cavage_get_must_cover_host(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = [("(request-target)", "get /users/bob"), ("date", NOW_HTTP)]
    headers = {"Host": HOST, "Date": NOW_HTTP, "Signature": hand_cavage(rsa_key, lines)}
    with pytest.raises(SignatureError, match="must cover host"):
        parse_signature("GET", f"http://{HOST}/users/bob", headers, b"", now=NOW)


def test_cavage_signed_header_must_be_present(rsa_key: rsa.RSAPrivateKey) -> None:
    added = sign_cavage(
        "GET", URL, {"Accept": ACTIVITY_JSON}, None, key_id=KEY_ID, private_key=rsa_key, now=NOW
    )
    with pytest.raises(SignatureError, match="accept is missing"):
        parse_signature("GET", URL, added, b"", now=NOW)


def test_cavage_created_and_expires(rsa_key: rsa.RSAPrivateKey) -> None:
    url = f"http://{HOST}/users/bob"

    def request(created: int, expires: int) -> dict[str, str]:
        lines = [
            ("(request-target)", "get /users/bob"),
            ("(created)", str(created)),
            ("(expires)", str(expires)),
            ("host", HOST),
        ]
        extra = f"created={created}, expires={expires}, "
        return {
            "Host": HOST,
            "Signature": hand_cavage(rsa_key, lines, algorithm="hs2019", extra=extra),
        }

    parsed = parse_signature("GET", url, request(NOW_TS, NOW_TS + 300), b"", now=NOW)
    assert parsed.created == NOW
    verify_signature(parsed, rsa_key.public_key())
    expired = request(NOW_TS - 3 * 3600, NOW_TS - 2 * 3600)
    with pytest.raises(SignatureError, match="expired"):
        parse_signature("GET", url, expired, b"", now=NOW)


@pytest.mark.parametrize(
    ("digest", "reason"),
    [
        ("sha-256=" + sha256_b64(BODY), None),
        ("SHA-512=" + b64(hashlib.sha512(BODY).digest()) + ", SHA-256=" + sha256_b64(BODY), None),
        ("SHA-512=" + b64(hashlib.sha512(BODY).digest()), "no SHA-256"),
        ("SHA-256=" + sha256_b64(BODY) + ",SHA-256=" + sha256_b64(b"x"), "does not match"),
        ("SHA-256=%%%", "not valid base64"),
        ("SHA-256", "malformed Digest"),
    ],
)
def test_cavage_digest_forms(rsa_key: rsa.RSAPrivateKey, digest: str, reason: str | None) -> None:
    lines = [
        ("(request-target)", "post /users/bob/inbox"),
        ("host", HOST),
        ("date", NOW_HTTP),
        ("digest", digest),
    ]
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Digest": digest,
        "Signature": hand_cavage(rsa_key, lines),
    }
    if reason is None:
        verify_signature(parse_signature("POST", URL, headers, BODY, now=NOW), rsa_key.public_key())
    else:
        with pytest.raises(SignatureError, match=reason):
            parse_signature("POST", URL, headers, BODY, now=NOW)


def test_unknown_cavage_algorithm(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = [
        ("(request-target)", "post /users/bob/inbox"),
        ("host", HOST),
        ("date", NOW_HTTP),
        ("digest", digest_header(BODY)),
    ]
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Digest": digest_header(BODY),
        "Signature": hand_cavage(rsa_key, lines, algorithm="rsa-sha1"),
    }
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'rsa-sha1'"):
        parse_signature("POST", URL, headers, BODY, now=NOW)


def test_unknown_rfc9421_algorithm(rsa_key: rsa.RSAPrivateKey) -> None:
    components = [("@method", "GET"), ("@target-uri", URL)]
    params = f';created={NOW_TS};keyid="{KEY_ID}";alg="hmac-sha256"'
    headers = {"Host": HOST, **hand_rfc9421(rsa_key, components, params)}
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'hmac-sha256'"):
        parse_signature("GET", URL, headers, b"", now=NOW)


def test_rfc9421_requires_created(rsa_key: rsa.RSAPrivateKey) -> None:
    components = [("@method", "GET"), ("@target-uri", URL)]
    headers = {"Host": HOST, **hand_rfc9421(rsa_key, components, f';keyid="{KEY_ID}"')}
    with pytest.raises(SignatureError, match="created"):
        parse_signature("GET", URL, headers, b"", now=NOW)


def test_rfc9421_post_must_cover_content_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    components = [("@method", "POST"), ("@target-uri", URL)]
    params = f';created={NOW_TS};keyid="{KEY_ID}"'
    headers = {"Host": HOST, **hand_rfc9421(rsa_key, components, params)}
    with pytest.raises(SignatureError, match="must cover content-digest"):
        parse_signature("POST", URL, headers, BODY, now=NOW)


def test_rfc9421_expires_is_honoured(rsa_key: rsa.RSAPrivateKey) -> None:
    components = [("@method", "GET"), ("@target-uri", URL)]
    params = f';created={NOW_TS - 3 * 3600};expires={NOW_TS - 2 * 3600};keyid="{KEY_ID}"'
    headers = {"Host": HOST, **hand_rfc9421(rsa_key, components, params)}
    with pytest.raises(SignatureError, match="expired"):
        parse_signature("GET", URL, headers, b"", now=NOW)


def test_rfc9421_rsa_pss_sha512_and_sha512_content_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    content_digest = f"sha-512=:{b64(hashlib.sha512(BODY).digest())}:"
    components = [
        ("@method", "POST"),
        ("@target-uri", URL),
        ("content-digest", content_digest),
    ]
    params = f';created={NOW_TS};keyid="{KEY_ID}";alg="rsa-pss-sha512"'
    headers = {
        "Host": HOST,
        "Content-Digest": content_digest,
        **hand_rfc9421(rsa_key, components, params, pss=True),
    }
    parsed = parse_signature("POST", URL, headers, BODY, now=NOW)
    assert parsed.algorithm == "rsa-pss-sha512"
    verify_signature(parsed, rsa_key.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(dataclasses.replace(parsed, algorithm=None), rsa_key.public_key())


def test_rfc9421_picks_the_first_label_present_in_both_headers(rsa_key: rsa.RSAPrivateKey) -> None:
    components = [("@method", "GET"), ("@target-uri", URL)]
    sig0 = hand_rfc9421(rsa_key, components, f';created={NOW_TS};keyid="k0"', label="sig0")
    sig1 = hand_rfc9421(rsa_key, components, f';created={NOW_TS};keyid="k1"', label="sig1")
    sig2 = hand_rfc9421(rsa_key, components, f';created={NOW_TS};keyid="k2"', label="sig2")
    headers = {
        "Host": HOST,
        "Signature-Input": f"{sig0['Signature-Input']}, {sig1['Signature-Input']}, "
        + sig2["Signature-Input"],
        "Signature": f"{sig2['Signature']}, {sig1['Signature']}",
    }
    parsed = parse_signature("GET", URL, headers, b"", now=NOW)
    assert (parsed.label, parsed.key_id) == ("sig1", "k1")
    verify_signature(parsed, rsa_key.public_key())


@pytest.mark.parametrize("extra", [{}, {"Authorization": "Bearer abc"}])
def test_unsigned_request_is_rejected(extra: dict[str, str]) -> None:
    with pytest.raises(SignatureError, match="not signed"):
        parse_signature("POST", URL, {"Host": HOST, **extra}, BODY, now=NOW)


def test_repeated_header_fields_are_joined(rsa_key: rsa.RSAPrivateKey) -> None:
    # RFC 9110 §5.3 / cavage-12 §2.3: several field lines are signed as one, joined by ", ".
    url = f"http://{HOST}/users/bob"
    accept = f"{ACTIVITY_JSON}, application/ld+json"
    lines = [("(request-target)", "get /users/bob"), ("host", HOST), ("date", NOW_HTTP)]
    signature = hand_cavage(rsa_key, [*lines, ("accept", accept)])
    headers = CIMultiDict(
        [
            ("Host", HOST),
            ("Date", NOW_HTTP),
            ("Accept", ACTIVITY_JSON),
            ("accept", "application/ld+json"),
            ("Signature", signature),
        ]
    )
    verify_signature(parse_signature("GET", url, headers, b"", now=NOW), rsa_key.public_key())


GOOD_SIG = b64(b"x" * 256)
CAVAGE_GARBAGE = [
    ("", "malformed Signature"),
    ("garbage", "malformed Signature"),
    (f'keyId="{KEY_ID}",signature="{GOOD_SIG}', "malformed Signature"),
    (f'keyId="{KEY_ID}",signature="{GOOD_SIG}",', "ends with a comma"),
    (f'keyId="a",keyId="b",signature="{GOOD_SIG}"', "repeats the keyid"),
    (f'keyId="{KEY_ID}",signature="!!not base64!!"', "not valid base64"),
    (f'keyId="{KEY_ID}",headers="(request-target) host date digest"', "no signature value"),
    (f'algorithm="rsa-sha256",signature="{GOOD_SIG}"', "no keyId"),
    (f'keyId="{KEY_ID}",signature="{GOOD_SIG}",headers="host host"', "repeats a header"),
    (f'keyId="{"x" * 9000}",signature="{GOOD_SIG}"', "longer than 8192"),
    (f'keyId="{KEY_ID}" signature="{GOOD_SIG}"', "malformed Signature"),
]


@pytest.mark.parametrize(("value", "reason"), CAVAGE_GARBAGE)
def test_garbage_signature_header(value: str, reason: str) -> None:
    headers = {"Host": HOST, "Date": NOW_HTTP, "Digest": digest_header(BODY), "Signature": value}
    with pytest.raises(SignatureError, match=reason):
        parse_signature("POST", URL, headers, BODY, now=NOW)


COVERED = '("@method" "@target-uri")'
PARAMS = f';created={NOW_TS};keyid="{KEY_ID}"'
RFC9421_GARBAGE = [
    ("", f"sig1=:{GOOD_SIG}:", "empty dictionary"),
    (f'sig1=("@method" "@target-uri"{PARAMS}', f"sig1=:{GOOD_SIG}:", "malformed structured"),
    (f'sig1=("@method" "@target-uri){PARAMS}', f"sig1=:{GOOD_SIG}:", "malformed structured"),
    (f"sig1={COVERED}{PARAMS}", "sig1=:not base64!:", "malformed structured"),
    (f"sig1={COVERED}{PARAMS}", "sig1=:AB$C:", "malformed structured"),
    (f"sig1={COVERED}{PARAMS}", "sig1=:A:", "not valid base64"),
    (f"sig1={COVERED}{PARAMS}", f"sig2=:{GOOD_SIG}:", "no signature label"),
    (f'sig1="@method"{PARAMS}', f"sig1=:{GOOD_SIG}:", "not an inner list"),
    (f"sig1={COVERED}{PARAMS}", "sig1=abc", "not a byte sequence"),
    (f"sig1=(@method){PARAMS}", f"sig1=:{GOOD_SIG}:", "malformed structured"),
    (f"sig1=(method){PARAMS}", f"sig1=:{GOOD_SIG}:", "non-string component"),
    (f"sig1={COVERED}{PARAMS},", f"sig1=:{GOOD_SIG}:", "trailing comma"),
    (f"Sig1={COVERED}{PARAMS}", f"sig1=:{GOOD_SIG}:", "expected a key"),
    (f'sig1=("@method" "@target-uri";sf){PARAMS}', f"sig1=:{GOOD_SIG}:", "component parameters"),
    (f'sig1=("@method" "@method"){PARAMS}', f"sig1=:{GOOD_SIG}:", "repeats @method"),
    (f'sig1=("@method" "@status"){PARAMS}', f"sig1=:{GOOD_SIG}:", "unsupported derived"),
    (f'sig1=("@method" "Host"){PARAMS}', f"sig1=:{GOOD_SIG}:", "not lowercase"),
    (f'sig1=("@method" "x-nope"){PARAMS}', f"sig1=:{GOOD_SIG}:", "x-nope is missing"),
    (f'sig1={COVERED};created=1.5;keyid="{KEY_ID}"', f"sig1=:{GOOD_SIG}:", "integer created"),
    (f"sig1={COVERED};created={NOW_TS};keyid=?1", f"sig1=:{GOOD_SIG}:", "keyid"),
    (f"sig1={COVERED};created=1234567890123456", f"sig1=:{GOOD_SIG}:", "integer too long"),
    (f'sig1={COVERED}{PARAMS};alg="{"x" * 9000}"', f"sig1=:{GOOD_SIG}:", "longer than 8192"),
    (f"sig1={COVERED}{PARAMS}", None, "no Signature header"),
]


@pytest.mark.parametrize(("signature_input", "signature", "reason"), RFC9421_GARBAGE)
def test_garbage_rfc9421_headers(signature_input: str, signature: str | None, reason: str) -> None:
    headers = {"Host": HOST, "Signature-Input": signature_input}
    if signature is not None:
        headers["Signature"] = signature
    with pytest.raises(SignatureError, match=reason):
        parse_signature("GET", URL, headers, b"", now=NOW)


@pytest.mark.parametrize("url", ["http://[::1/inbox", "http://host:99999/inbox", "/inbox"])
def test_unusable_url_is_a_signature_error(rsa_key: rsa.RSAPrivateKey, url: str) -> None:
    headers = signed_post(sign_rfc9421, rsa_key)
    with pytest.raises(SignatureError, match="unusable request URL"):
        parse_signature("POST", url, headers, BODY, now=NOW)


def test_bad_date_header_is_a_signature_error(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed_post(sign_cavage, rsa_key)
    headers["Date"] = "yesterday-ish"
    with pytest.raises(SignatureError, match="unreadable Date"):
        parse_signature("POST", URL, headers, BODY, now=NOW)


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "hint"),
    [
        ("https://a.test/users/alice#main-key", "https://a.test/users/alice"),
        ("https://a.test/users/alice/main-key", "https://a.test/users/alice/main-key"),
        ("https://a.test/actor", "https://a.test/actor"),
    ],
)
def test_key_id_to_actor_hint(key_id: str, hint: str) -> None:
    assert key_id_to_actor_hint(key_id) == hint


def test_load_public_key_pem_is_cached(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = load_public_key_pem(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.public_numbers() == rsa_key.public_key().public_numbers()
    assert load_public_key_pem(pem) is key
    with pytest.raises(SignatureError, match="unreadable public key"):
        load_public_key_pem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
