"""HTTP signatures: sign outgoing requests and verify incoming ones, without any I/O.

Two wire formats are owned here: draft-cavage-http-signatures-12 (`Signature: keyId=…`, what
Mastodon and most of the fediverse emit, with an RFC 3230 `Digest`) and RFC 9421 HTTP Message
Signatures (`Signature-Input` + `Signature`, with an RFC 9530 `Content-Digest`). Verification
is split in two so the caller can fetch the key in between: `parse_signature()` checks
everything that needs no key (syntax, covered components, time window, body digest) and builds
the exact bytes that were signed; `verify_signature()` is then one cryptography call. Every
failure raises `SignatureError` with a human reason, which the inbox maps to HTTP 401.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Final, Literal, NoReturn, TypeAlias
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_SIGNATURE_AGE",
    "MAX_SIGNATURE_FUTURE",
    "Algorithm",
    "ParsedSignature",
    "SignatureError",
    "SigningKey",
    "content_digest_header",
    "digest_header",
    "key_id_to_actor_hint",
    "load_public_key_pem",
    "parse_signature",
    "sign_cavage",
    "sign_rfc9421",
    "verify_signature",
]

# Mastodon's window: a signature may be 12 hours old, and 1 hour ahead for clock skew.
MAX_SIGNATURE_AGE: Final = timedelta(hours=12)
MAX_SIGNATURE_FUTURE: Final = timedelta(hours=1)
# Any signature-related header longer than this is refused before parsing.
MAX_HEADER_BYTES: Final = 8 * 1024
# More covered components than this is not a real client.
_MAX_COVERED: Final = 32

_AGE_S: Final = MAX_SIGNATURE_AGE.total_seconds()
_FUTURE_S: Final = MAX_SIGNATURE_FUTURE.total_seconds()

Algorithm: TypeAlias = Literal["rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519"]
"""RFC 9421 algorithm names; cavage `rsa-sha256` is stored as `rsa-v1_5-sha256`."""
SigningKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
"""Keys this module signs with: RSA (the fediverse norm) and Ed25519 (FEP-521a)."""

_RFC9421_ALGORITHMS: Final[dict[str, Algorithm]] = {
    "rsa-v1_5-sha256": "rsa-v1_5-sha256",
    "rsa-pss-sha512": "rsa-pss-sha512",
    "ed25519": "ed25519",
}
# `None` means "use the key's own type": hs2019 says the algorithm comes from the key.
_CAVAGE_ALGORITHMS: Final[dict[str, Algorithm | None]] = {
    "rsa-sha256": "rsa-v1_5-sha256",
    "hs2019": None,
}
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

_PKCS1V15: Final = padding.PKCS1v15()
_SHA256: Final = hashes.SHA256()
_SHA512: Final = hashes.SHA512()
# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1(SHA-512) and a 64-byte salt.
_PSS_SHA512: Final = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)

_CAVAGE_PARAM: Final = re.compile(
    r'[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?:"([^"]*)"|([^",\s]+))[ \t]*(,|\Z)'
)
_UNIX_TIME: Final = re.compile(r"[0-9]{1,15}")
_SF_KEY: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_TOKEN: Final = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_NUMBER: Final = re.compile(r"-?([0-9]+)(?:\.([0-9]*))?")
_SF_STRING: Final = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])*)"')
_SF_BYTES: Final = re.compile(r":([A-Za-z0-9+/=]*):")
_SF_UNESCAPE: Final = re.compile(r'\\([\\"])')
_SF_STRING_SAFE: Final = re.compile(r"[\x20-\x7e]*")
_SF_MILLI: Final = Decimal("0.001")


class SignatureError(Exception):
    """A request signature is missing, malformed, stale or does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """Everything needed to check one signature once the signer's key is known."""

    key_id: str
    scheme: Literal["cavage", "rfc9421"]
    # None: the sender left the algorithm to the key (cavage hs2019, RFC 9421 without `alg`).
    algorithm: Algorithm | None
    signing_base: bytes
    signature: bytes
    covered: tuple[str, ...]
    created: datetime | None
    label: str | None = None


# --- public helpers -----------------------------------------------------------------------


def digest_header(body: bytes) -> str:
    """Return the RFC 3230 `Digest` value (`SHA-256=<base64>`) of a body."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """Return the RFC 9530 `Content-Digest` value (`sha-256=:<base64>:`) of a body."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def key_id_to_actor_hint(key_id: str) -> str:
    """Return the URI to fetch for a key id: the key id without its `#fragment`."""
    return key_id.partition("#")[0]


@lru_cache(maxsize=2048)
def load_public_key_pem(pem: str) -> PublicKeyTypes:
    """Parse a `publicKeyPem` once (cached) into an RSA or Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise SignatureError(f"unreadable public key PEM: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise SignatureError(f"unsupported public key type {type(key).__name__}")
    return key


# --- signing ------------------------------------------------------------------------------


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: SigningKey,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign a request draft-cavage style; return the `Host`, `Date`, `Digest`, `Signature`."""
    if '"' in key_id:
        raise ValueError("a cavage keyId cannot contain a double quote")
    target = _Target.from_url(url)
    out = {
        "Host": target.authority,
        "Date": email.utils.formatdate(_utc(now).timestamp(), usegmt=True),
    }
    covered = ["(request-target)", "host", "date"]
    values = [f"{method.lower()} {target.path_qs}", out["Host"], out["Date"]]
    if body is not None:
        out["Digest"] = digest_header(body)
        covered.append("digest")
        values.append(out["Digest"])
    else:
        accept = _find_header(headers, "accept")
        if accept is not None:
            covered.append("accept")
            values.append(accept)
    signing_string = "\n".join(
        f"{name}: {value}" for name, value in zip(covered, values, strict=True)
    )
    signature = _sign(private_key, signing_string.encode("utf-8"))
    algorithm = "rsa-sha256" if isinstance(private_key, rsa.RSAPrivateKey) else "hs2019"
    out["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return out


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: SigningKey,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign a request RFC 9421 style; return `Content-Digest`, `Signature-Input`, `Signature`."""
    del headers  # same inputs as sign_cavage; no request header is covered here
    target = _Target.from_url(url)
    out: dict[str, str] = {}
    components: list[tuple[str, str]] = [("@method", method.upper()), ("@target-uri", target.uri)]
    if body is not None:
        out["Content-Digest"] = content_digest_header(body)
        components.append(("content-digest", out["Content-Digest"]))
    alg: Algorithm = "rsa-v1_5-sha256" if isinstance(private_key, rsa.RSAPrivateKey) else "ed25519"
    spec = _InnerList(
        tuple(_Item(name, ()) for name, _ in components),
        (
            ("created", int(_utc(now).timestamp())),
            ("keyid", _checked_sf_string(key_id)),
            ("alg", alg),
        ),
    )
    params = _serialize_inner_list(spec)
    lines = [f"{_serialize_string(name)}: {value}" for name, value in components]
    lines.append(f'"@signature-params": {params}')
    signature = _sign(private_key, "\n".join(lines).encode("utf-8"))
    out["Signature-Input"] = f"sig1={params}"
    out["Signature"] = f"sig1=:{base64.b64encode(signature).decode('ascii')}:"
    return out


def _sign(private_key: SigningKey, data: bytes) -> bytes:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _PKCS1V15, _SHA256)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    raise TypeError(f"cannot sign with a {type(private_key).__name__}")


# --- verification -------------------------------------------------------------------------


def parse_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime | None = None,
) -> ParsedSignature:
    """Check an incoming request's signature without its key and return what to verify."""
    hdrs = _lower_headers(headers)
    try:
        target = _target_of(url)
    except ValueError as exc:
        raise SignatureError(f"unusable request URL {url!r}: {exc}") from None
    method = method.upper()
    now_ts = _utc(now).timestamp()
    if "signature-input" in hdrs:
        return _parse_rfc9421(method, target, hdrs, body, now_ts)
    return _parse_cavage(method, target, hdrs, body, now_ts)


def verify_signature(parsed: ParsedSignature, public_key: PublicKeyTypes) -> None:
    """Check `parsed` against the signer's public key; raise `SignatureError` if it fails."""
    algorithm = parsed.algorithm
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algorithm is None or algorithm == "rsa-v1_5-sha256":
                public_key.verify(parsed.signature, parsed.signing_base, _PKCS1V15, _SHA256)
            elif algorithm == "rsa-pss-sha512":
                public_key.verify(parsed.signature, parsed.signing_base, _PSS_SHA512, _SHA512)
            else:
                raise SignatureError(f"algorithm {algorithm} cannot be used with an RSA key")
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            if algorithm not in (None, "ed25519"):
                raise SignatureError(f"algorithm {algorithm} cannot be used with an Ed25519 key")
            public_key.verify(parsed.signature, parsed.signing_base)
        else:
            raise SignatureError(f"unsupported public key type {type(public_key).__name__}")
    except (InvalidSignature, ValueError):
        raise SignatureError(f"signature does not verify with key {parsed.key_id}") from None


def _parse_cavage(
    method: str, target: _Target, hdrs: dict[str, str], body: bytes, now_ts: float
) -> ParsedSignature:
    raw = _limited(hdrs, "signature")
    if raw is None:
        auth = _limited(hdrs, "authorization")
        if auth is None or auth[:10].lower() != "signature ":
            raise SignatureError("request is not signed (no Signature header)")
        raw = auth[10:]
    elif raw[:10].lower() == "signature ":
        # Old PeerTube put the Authorization form in the Signature header; Mastodon accepts it.
        raw = raw[10:]
    params = _parse_cavage_params(raw)

    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("Signature has no keyId")
    if "signature" not in params:
        raise SignatureError("Signature has no signature value")
    signature = _b64decode(params["signature"], "Signature signature")
    declared = params.get("algorithm", "hs2019").lower()
    if declared not in _CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {declared!r}")

    # cavage-12 §2.1.6: without `headers`, only (created) is signed; that fails the rules below.
    covered = tuple(params.get("headers", "(created)").lower().split())
    if len(covered) > _MAX_COVERED or len(set(covered)) != len(covered):
        raise SignatureError("Signature headers list is too long or repeats a header")
    needs_digest = method in _BODY_METHODS or bool(body)
    required = ["(request-target)", "host"]
    if needs_digest:
        required += ["date", "digest"]
    elif "(created)" not in covered:
        required.append("date")
    missing = [name for name in required if name not in covered]
    if missing:
        raise SignatureError(f"Signature must cover {', '.join(missing)} on {method}")

    created: datetime | None = None
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = f"{method.lower()} {target.path_qs}"
        elif name in ("(created)", "(expires)"):
            value = params.get(name[1:-1], "")
            if not _UNIX_TIME.fullmatch(value):
                raise SignatureError(f"Signature covers {name} without a valid {name[1:-1]}")
            if name == "(created)":
                created = _check_created(int(value), now_ts, "(created)")
            else:
                _check_expires(int(value), now_ts)
        else:
            value = _signed_header(hdrs, name)
            if name == "date":
                created = _check_date(value, now_ts)
            elif name == "digest":
                _check_digest(value, body)
        lines.append(f"{name}: {value}")
    return ParsedSignature(
        key_id=key_id,
        scheme="cavage",
        algorithm=_CAVAGE_ALGORITHMS[declared],
        signing_base=_encode("\n".join(lines)),
        signature=signature,
        covered=covered,
        created=created,
    )


def _parse_cavage_params(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos, end = 0, len(raw)
    while True:
        match = _CAVAGE_PARAM.match(raw, pos)
        if match is None:
            raise SignatureError(f"malformed Signature header near offset {pos}")
        name = match[1].lower()
        if name in params:
            raise SignatureError(f"Signature repeats the {name} parameter")
        params[name] = match[2] if match[2] is not None else match[3]
        pos = match.end()
        if not match[4]:
            return params
        if pos == end:
            raise SignatureError("Signature header ends with a comma")


@dataclass(frozen=True, slots=True)
class _Rfc9421Input:
    label: str
    covered: tuple[str, ...]
    params: dict[str, _BareItem]
    base: bytes
    signature: bytes


def _parse_rfc9421(
    method: str, target: _Target, hdrs: dict[str, str], body: bytes, now_ts: float
) -> ParsedSignature:
    sig = _read_rfc9421(method, target, hdrs)
    covered, params = sig.covered, sig.params
    missing = [name for name in ("@method", "@target-uri") if name not in covered]
    if (method in _BODY_METHODS or body) and "content-digest" not in covered:
        missing.append("content-digest")
    if missing:
        raise SignatureError(f"Signature-Input must cover {', '.join(missing)} on {method}")

    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("Signature-Input has no keyid string parameter")
    alg = params.get("alg")
    algorithm: Algorithm | None = None
    if alg is not None:
        if not isinstance(alg, str) or alg not in _RFC9421_ALGORITHMS:
            raise SignatureError(f"unsupported signature algorithm {alg!r}")
        algorithm = _RFC9421_ALGORITHMS[alg]
    created_param = params.get("created")
    if type(created_param) is not int:
        raise SignatureError("Signature-Input has no integer created parameter")
    created = _check_created(created_param, now_ts, "created")
    if "expires" in params:
        expires = params["expires"]
        if type(expires) is not int:
            raise SignatureError("Signature-Input expires parameter is not an integer")
        _check_expires(expires, now_ts)
    if "content-digest" in covered:
        _check_content_digest(hdrs["content-digest"], body)
    return ParsedSignature(
        key_id=key_id,
        scheme="rfc9421",
        algorithm=algorithm,
        signing_base=sig.base,
        signature=sig.signature,
        covered=covered,
        created=created,
        label=sig.label,
    )


def _read_rfc9421(method: str, target: _Target, hdrs: dict[str, str]) -> _Rfc9421Input:
    """Parse Signature-Input/Signature and build the RFC 9421 §2.5 signature base (no policy)."""
    inputs = _SFParser(_limited(hdrs, "signature-input") or "").dictionary()
    raw_signatures = _limited(hdrs, "signature")
    if raw_signatures is None:
        raise SignatureError("Signature-Input present but no Signature header")
    signatures = _SFParser(raw_signatures).dictionary()
    # Several signatures may be attached (e.g. by proxies): take the first label in both.
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("no signature label appears in both Signature-Input and Signature")
    spec, member = inputs[label], signatures[label]
    if not isinstance(spec, _InnerList):
        raise SignatureError(f"Signature-Input {label} is not an inner list")
    if not isinstance(member, _Item) or not isinstance(member.value, bytes) or not member.value:
        raise SignatureError(f"Signature {label} is not a byte sequence")
    if len(spec.items) > _MAX_COVERED:
        raise SignatureError(f"Signature-Input {label} covers too many components")

    names: list[str] = []
    lines: list[str] = []
    for item in spec.items:
        name = item.value
        if not isinstance(name, str) or isinstance(name, _Token):
            raise SignatureError(f"Signature-Input {label} has a non-string component")
        if item.params:
            raise SignatureError(f"component parameters are not supported ({name})")
        if name in names:
            raise SignatureError(f"Signature-Input {label} repeats {name}")
        names.append(name)
        lines.append(f"{_serialize_string(name)}: {_component_value(name, method, target, hdrs)}")
    lines.append(f'"@signature-params": {_serialize_inner_list(spec)}')
    return _Rfc9421Input(
        label=label,
        covered=tuple(names),
        params=dict(spec.params),
        base=_encode("\n".join(lines)),
        signature=member.value,
    )


def _component_value(name: str, method: str, target: _Target, hdrs: dict[str, str]) -> str:
    # RFC 9421 §2.2 derived components for requests; anything else is a header field.
    match name:
        case "@method":
            return method
        case "@target-uri":
            return target.uri
        case "@authority":
            return target.authority
        case "@scheme":
            return target.scheme
        case "@request-target":
            return target.path_qs
        case "@path":
            return target.path
        case "@query":
            return f"?{target.query}"
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name}")
    if name != name.lower():
        raise SignatureError(f"component {name} is not lowercase")
    return _signed_header(hdrs, name)


# --- checks -------------------------------------------------------------------------------


def _check_created(created: int, now_ts: float, what: str) -> datetime:
    if created < now_ts - _AGE_S:
        raise SignatureError(f"signature {what} is more than {MAX_SIGNATURE_AGE} old")
    if created > now_ts + _FUTURE_S:
        raise SignatureError(f"signature {what} is more than {MAX_SIGNATURE_FUTURE} ahead")
    return datetime.fromtimestamp(created, UTC)


def _check_expires(expires: int, now_ts: float) -> None:
    # Same clock-skew allowance as for creation times (Mastodon's CLOCK_SKEW_MARGIN).
    if expires < now_ts - _FUTURE_S:
        raise SignatureError("signature has expired")


@lru_cache(maxsize=256)  # every request signed in the same second has the same Date
def _parse_date(value: str) -> datetime:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        raise SignatureError(f"unreadable Date header {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _check_date(value: str, now_ts: float) -> datetime:
    when = _parse_date(value)
    timestamp = when.timestamp()
    if timestamp < now_ts - _AGE_S:
        raise SignatureError(f"Date {value!r} is more than {MAX_SIGNATURE_AGE} old")
    if timestamp > now_ts + _FUTURE_S:
        raise SignatureError(f"Date {value!r} is more than {MAX_SIGNATURE_FUTURE} ahead")
    return when.astimezone(UTC)


def _check_digest(value: str, body: bytes) -> None:
    # RFC 3230: comma-separated `algorithm=base64`, algorithm names case-insensitive.
    if len(value) > MAX_HEADER_BYTES:
        raise SignatureError("Digest header is too long")
    expected = hashlib.sha256(body).digest()
    found = False
    for part in value.split(","):
        algorithm, sep, encoded = part.partition("=")
        if not sep:
            raise SignatureError("malformed Digest header")
        if algorithm.strip().lower() != "sha-256":
            continue
        found = True
        if _b64decode(encoded.strip(), "Digest") != expected:
            raise SignatureError("Digest does not match the request body")
    if not found:
        raise SignatureError("Digest header has no SHA-256 value")


def _check_content_digest(value: str, body: bytes) -> None:
    # RFC 9530: a structured dictionary of byte sequences; unknown algorithms are ignored.
    if len(value) > MAX_HEADER_BYTES:
        raise SignatureError("Content-Digest header is too long")
    found = False
    for algorithm, member in _SFParser(value).dictionary().items():
        if algorithm == "sha-256":
            expected = hashlib.sha256(body).digest()
        elif algorithm == "sha-512":
            expected = hashlib.sha512(body).digest()
        else:
            continue
        if not isinstance(member, _Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"Content-Digest {algorithm} is not a byte sequence")
        found = True
        if member.value != expected:
            raise SignatureError("Content-Digest does not match the request body")
    if not found:
        raise SignatureError("Content-Digest has no sha-256 or sha-512 value")


# --- small utilities ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    """The request target, normalised (RFC 9110 §4.2.3): lowercase, no default port."""

    scheme: str
    authority: str
    path: str
    query: str

    @classmethod
    def from_url(cls, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if not scheme or not host:
            raise ValueError(f"not an absolute URL: {url!r}")
        port = parts.port
        authority = f"[{host}]" if ":" in host else host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            authority = f"{authority}:{port}"
        return cls(scheme, authority, parts.path or "/", parts.query)

    @property
    def path_qs(self) -> str:
        """Path and query, as in `(request-target)` and `@request-target`."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def uri(self) -> str:
        """The full target URI, as in `@target-uri`."""
        return f"{self.scheme}://{self.authority}{self.path_qs}"


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now


@lru_cache(maxsize=256)  # an inbox sees the same few URLs all day; _Target is immutable
def _target_of(url: str) -> _Target:
    return _Target.from_url(url)


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    # Repeated fields (a multidict yields each) are joined with ", " as RFC 9110 §5.3 allows.
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        stripped = value.strip()
        out[key] = f"{out[key]}, {stripped}" if key in out else stripped
    return out


def _find_header(headers: Mapping[str, str], wanted: str) -> str | None:
    for name, value in headers.items():
        if name.lower() == wanted:
            return value.strip()
    return None


def _limited(hdrs: dict[str, str], name: str) -> str | None:
    value = hdrs.get(name)
    if value is not None and len(value) > MAX_HEADER_BYTES:
        raise SignatureError(f"{name} header is longer than {MAX_HEADER_BYTES} bytes")
    return value


def _signed_header(hdrs: dict[str, str], name: str) -> str:
    value = hdrs.get(name)
    if value is None:
        raise SignatureError(f"signed header {name} is missing from the request")
    if "\n" in value or "\r" in value:
        raise SignatureError(f"signed header {name} contains a line break")
    return value


def _encode(text: str) -> bytes:
    try:
        # surrogateescape gives back the raw bytes of headers aiohttp could not decode.
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise SignatureError("signed values are not encodable") from None


def _b64decode(value: str, what: str) -> bytes:
    # RFC 8941 §4.2.7: tolerate missing "=" padding.
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


# --- RFC 8941 structured fields, just enough for these headers ----------------------------


class _Token(str):
    """An sf-token, kept apart from sf-string so that it re-serialises unquoted."""

    __slots__ = ()


_BareItem: TypeAlias = "str | int | Decimal | bool | bytes"
_Params: TypeAlias = "tuple[tuple[str, _BareItem], ...]"


@dataclass(frozen=True, slots=True)
class _Item:
    value: _BareItem
    params: _Params


@dataclass(frozen=True, slots=True)
class _InnerList:
    items: tuple[_Item, ...]
    params: _Params


class _SFParser:
    """Recursive-descent parser for RFC 8941 dictionaries (items, inner lists, parameters)."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text.strip(" \t")
        self.pos = 0

    def fail(self, what: str) -> NoReturn:
        raise SignatureError(f"malformed structured header: {what} at offset {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def dictionary(self) -> dict[str, _Item | _InnerList]:
        """Parse the whole text as a dictionary; later duplicate keys override (§4.2.2)."""
        out: dict[str, _Item | _InnerList] = {}
        text = self.text
        while self.pos < len(text):
            key = self.key()
            member: _Item | _InnerList
            if self.peek() == "=":
                self.pos += 1
                member = self.inner_list() if self.peek() == "(" else self.item()
            else:
                member = _Item(True, self.params())
            out[key] = member
            while self.peek() in (" ", "\t"):
                self.pos += 1
            if self.pos == len(text):
                return out
            if text[self.pos] != ",":
                self.fail("expected a comma")
            self.pos += 1
            while self.peek() in (" ", "\t"):
                self.pos += 1
            if self.pos == len(text):
                self.fail("trailing comma")
        if not out:
            self.fail("empty dictionary")
        return out

    def key(self) -> str:
        match = _SF_KEY.match(self.text, self.pos)
        if match is None:
            self.fail("expected a key")
        self.pos = match.end()
        return match[0]

    def inner_list(self) -> _InnerList:
        self.pos += 1  # "("
        items: list[_Item] = []
        while self.pos < len(self.text):
            while self.peek() == " ":
                self.pos += 1
            if self.peek() == ")":
                self.pos += 1
                return _InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                self.fail("expected a space or ')' in inner list")
        self.fail("unterminated inner list")

    def item(self) -> _Item:
        return _Item(self.bare_item(), self.params())

    def params(self) -> _Params:
        params: dict[str, _BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            while self.peek() == " ":
                self.pos += 1
            key = self.key()
            value: _BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return tuple(params.items())

    def bare_item(self) -> _BareItem:
        char = self.peek()
        if char == '"':
            match = _SF_STRING.match(self.text, self.pos)
            if match is None:
                self.fail("bad string")
            self.pos = match.end()
            raw = match[1]
            return _SF_UNESCAPE.sub(r"\1", raw) if "\\" in raw else raw
        if char == ":":
            match = _SF_BYTES.match(self.text, self.pos)
            if match is None:
                self.fail("bad byte sequence")
            self.pos = match.end()
            return _b64decode(match[1], "structured byte sequence")
        if char == "?":
            flag = self.text[self.pos + 1 : self.pos + 2]
            if flag not in ("0", "1"):
                self.fail("bad boolean")
            self.pos += 2
            return flag == "1"
        if char == "-" or "0" <= char <= "9":
            return self.number()
        if char == "*" or (char.isascii() and char.isalpha()):
            match = _SF_TOKEN.match(self.text, self.pos)
            if match is None:  # pragma: no cover - the first character always matches
                self.fail("bad token")
            self.pos = match.end()
            return _Token(match[0])
        self.fail("unexpected character")

    def number(self) -> int | Decimal:
        match = _SF_NUMBER.match(self.text, self.pos)
        if match is None:
            self.fail("bad number")
        whole, fraction = match[1], match[2]
        if fraction is None:
            if len(whole) > 15:
                self.fail("integer too long")
            self.pos = match.end()
            return int(match[0])
        if len(whole) > 12 or not 1 <= len(fraction) <= 3:
            self.fail("bad decimal")
        self.pos = match.end()
        return Decimal(match[0])


def _serialize_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked_sf_string(value: str) -> str:
    if not _SF_STRING_SAFE.fullmatch(value):
        raise ValueError(f"{value!r} cannot be an RFC 8941 string (printable ASCII only)")
    return value


def _serialize_bare_item(value: _BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, _Token):
        return str(value)
    if isinstance(value, str):
        return _serialize_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value.quantize(_SF_MILLI, rounding=ROUND_HALF_EVEN), "f").rstrip("0")
        return text + "0" if text.endswith(".") else text
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def _serialize_params(params: _Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare_item(value)}"
        for key, value in params
    )


def _serialize_inner_list(inner: _InnerList) -> str:
    # RFC 9421 §2.3: @signature-params is the re-serialised Signature-Input member.
    items = " ".join(
        _serialize_bare_item(item.value) + _serialize_params(item.params) for item in inner.items
    )
    return f"({items}){_serialize_params(inner.params)}"
