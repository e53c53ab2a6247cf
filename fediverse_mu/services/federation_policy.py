"""Federation policy: which servers this instance federates with. Domain blocks (Mastodon's
severities ``noop``/``silence``/``suspend``, ``reject_media``, ``reject_reports``, public and
private comments, ``obfuscate``), the allowlist mode (federate only with listed domains, for a
network of allied tiers-lieux), Mastodon's CSV import and export, and the one check every
face uses (:func:`first_refused`, cached for a few seconds): the inbox refuses a refused host
before any processing, fetches and deliveries skip it. Suspending a domain severs the follows with
its accounts, purges their content and drops the deliveries queued for it."""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass

from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.federation_policy import (
    MAX_COMMENT,
    DomainAllow,
    DomainBlock,
    HostPolicy,
    Severity,
    normalize_domain,
)
from fediverse_mu.events import STATUS_DELETED
from fediverse_mu.services import audit
from fediverse_mu.services.context import Services, forgets
from fediverse_mu.storage import Database
from fediverse_mu.storage import federation_policy as store
from fediverse_mu.storage import statuses as status_store


class _PolicyCache:
    """Host policies read in the last few seconds: the inbox asks on every POST, and the
    policy changes a few times a year. Changes made through this process's services clear it
    at once; changes from another process (the CLI, another web worker) apply within
    ``POLICY_TTL`` seconds."""

    def __init__(self) -> None:
        self.policies: dict[str, tuple[float, HostPolicy]] = {}

    def get(self, host: str) -> HostPolicy | None:
        found = self.policies.get(host)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, policy: HostPolicy) -> None:
        if len(self.policies) >= POLICY_CACHE_SIZE:
            self.policies.clear()
        self.policies[policy.host] = (time.monotonic() + POLICY_TTL, policy)


POLICY_TTL = 5.0
POLICY_MEMO = "host_policies"  # svc.memo key, forgotten by the functions that change them
POLICY_CACHE_SIZE = 10_000


def _cache(svc: Services) -> _PolicyCache:
    cache = svc.memo.get(POLICY_MEMO)
    if not isinstance(cache, _PolicyCache):
        cache = svc.memo[POLICY_MEMO] = _PolicyCache()
    return cache


CSV_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment",
              "#obfuscate")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::\d{{1,5}})?$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def parse_domain(value: str, *, own_domain: str | None = None) -> str:
    """A domain as stored (lower case, no scheme or path; ``*.`` prefix dropped); Invalid when
    it is not a host name or is this instance's own."""
    domain = normalize_domain(value)
    if not _DOMAIN.match(domain) or len(domain) > 253:
        raise Invalid(f"Validation failed: Domain is not a valid domain name: {value!r}")
    domain = domain.removeprefix("*.")
    if own_domain is not None and domain == own_domain.lower():
        raise Invalid("Validation failed: Domain cannot be this instance's own domain")
    return domain


def parse_severity(value: str) -> Severity:
    """A severity by name; Invalid for anything else."""
    try:
        return Severity(value.strip().lower())
    except ValueError:
        raise Invalid("Validation failed: Severity must be one of noop, silence, suspend") \
            from None


def _comment(value: str, name: str) -> str:
    value = value.strip()
    if len(value) > MAX_COMMENT:
        raise Invalid(f"Validation failed: {name} is too long (maximum is {MAX_COMMENT} "
                      "characters)")
    return value


@dataclass(frozen=True)
class BlockSpec:
    """A block as asked for (validated)."""

    domain: str
    severity: Severity
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False


def _describe(block: DomainBlock) -> str:
    flags = [block.severity.value]
    if block.reject_media:
        flags.append("reject_media")
    if block.reject_reports:
        flags.append("reject_reports")
    text = ", ".join(flags)
    return f"{text}: {block.private_comment or block.public_comment}".rstrip(": ")


def _apply_block(db: Database, actor: Account | None, spec: BlockSpec, svc: Services,
                 deleted: list[int]) -> DomainBlock:
    now = svc.now()
    before = store.get_block_by_domain(db, spec.domain)
    block = store.put_block(db, domain=spec.domain, severity=spec.severity,
                            reject_media=spec.reject_media, reject_reports=spec.reject_reports,
                            public_comment=spec.public_comment,
                            private_comment=spec.private_comment, obfuscate=spec.obfuscate,
                            now=now)
    if block.severity is Severity.SUSPEND:
        # As Mastodon does on a domain suspension: follows both ways are severed and what its
        # accounts posted is removed; nothing more is delivered there.
        for account_id in store.domain_account_ids(db, block.domain):
            deleted.extend(status_store.purge_account_content(db, account_id, now))
        store.drop_pending_deliveries(db, block.domain, now=svc.clock())
    audit.record_in(db, actor, "domain_block.update" if before else "domain_block.create",
                    block.domain, _describe(block), now)
    return block


def _publish_deleted(svc: Services, deleted: list[int]) -> None:
    if deleted:
        svc.events.publish(STATUS_DELETED, {"status_ids": deleted, "account_id": None})


@forgets(POLICY_MEMO)
async def block_domain(svc: Services, actor: Account | None, domain: str, *,
                       severity: str | Severity = Severity.SILENCE, reject_media: bool = False,
                       reject_reports: bool = False, public_comment: str = "",
                       private_comment: str = "", obfuscate: bool = False) -> DomainBlock:
    """Create (or change) the block on a domain; a suspension severs follows at once."""
    spec = BlockSpec(parse_domain(domain, own_domain=svc.config.domain),
                     severity if isinstance(severity, Severity) else parse_severity(severity),
                     reject_media, reject_reports, _comment(public_comment, "Public comment"),
                     _comment(private_comment, "Private comment"), obfuscate)
    deleted: list[int] = []
    block = await svc.storage.write(_apply_block, actor, spec, svc, deleted)
    _publish_deleted(svc, deleted)
    return block


@forgets(POLICY_MEMO)
async def update_domain_block(svc: Services, actor: Account | None, block_id: int, *,
                              severity: str | Severity | None = None,
                              reject_media: bool | None = None,
                              reject_reports: bool | None = None,
                              public_comment: str | None = None,
                              private_comment: str | None = None,
                              obfuscate: bool | None = None) -> DomainBlock:
    """Change some fields of an existing block."""
    current = await get_domain_block(svc, block_id)
    return await block_domain(
        svc, actor, current.domain,
        severity=current.severity if severity is None else severity,
        reject_media=current.reject_media if reject_media is None else reject_media,
        reject_reports=current.reject_reports if reject_reports is None else reject_reports,
        public_comment=current.public_comment if public_comment is None else public_comment,
        private_comment=current.private_comment if private_comment is None
        else private_comment,
        obfuscate=current.obfuscate if obfuscate is None else obfuscate)


async def get_domain_block(svc: Services, block_id: int) -> DomainBlock:
    """A block by id, or NotFound."""
    block = await svc.storage.read(store.get_block, block_id)
    if block is None:
        raise NotFound("Record not found")
    return block


@forgets(POLICY_MEMO)
async def unblock_domain(svc: Services, actor: Account | None, target: str | int) -> None:
    """Lift a block, by domain name or by id (severed follows are not restored)."""

    def write(db: Database) -> None:
        block = store.get_block(db, target) if isinstance(target, int) else \
            store.get_block_by_domain(db, normalize_domain(target).removeprefix("*."))
        if block is None or not store.delete_block(db, block.id):
            raise NotFound("Record not found")
        audit.record_in(db, actor, "domain_block.delete", block.domain, "", svc.now())

    await svc.storage.write(write)


async def list_domain_blocks(svc: Services) -> list[DomainBlock]:
    """Every domain block, by domain."""
    return await svc.storage.read(store.list_blocks)


# -- allowlist ---------------------------------------------------------------------------------


@forgets(POLICY_MEMO)
async def allow_domain(svc: Services, actor: Account | None, domain: str) -> DomainAllow:
    """Add a domain to the allowlist (idempotent)."""
    name = parse_domain(domain, own_domain=svc.config.domain)

    def write(db: Database) -> DomainAllow:
        existed = store.get_allow_by_domain(db, name)
        allow = store.put_allow(db, name, svc.now())
        if existed is None:
            audit.record_in(db, actor, "domain_allow.create", name, "", svc.now())
        return allow

    return await svc.storage.write(write)


async def get_domain_allow(svc: Services, allow_id: int) -> DomainAllow:
    """An allowlist entry by id, or NotFound."""
    allow = await svc.storage.read(store.get_allow, allow_id)
    if allow is None:
        raise NotFound("Record not found")
    return allow


@forgets(POLICY_MEMO)
async def disallow_domain(svc: Services, actor: Account | None, target: str | int) -> None:
    """Take a domain off the allowlist, by name or by id."""

    def write(db: Database) -> None:
        allow = store.get_allow(db, target) if isinstance(target, int) else \
            store.get_allow_by_domain(db, normalize_domain(target))
        if allow is None or not store.delete_allow(db, allow.id):
            raise NotFound("Record not found")
        audit.record_in(db, actor, "domain_allow.delete", allow.domain, "", svc.now())

    await svc.storage.write(write)


async def list_domain_allows(svc: Services) -> list[DomainAllow]:
    """Every allowed domain, by domain."""
    return await svc.storage.read(store.list_allows)


@forgets(POLICY_MEMO)
async def set_allowlist_mode(svc: Services, actor: Account | None, enabled: bool) -> None:
    """Turn allowlist mode on (federate only with allowed domains) or off."""

    def write(db: Database) -> None:
        store.set_allowlist_mode(db, enabled)
        audit.record_in(db, actor, "federation.allowlist_mode", svc.config.domain,
                        "on" if enabled else "off", svc.now())

    await svc.storage.write(write)


async def allowlist_mode(svc: Services) -> bool:
    """True when the instance federates only with allowed domains."""
    return await svc.storage.read(store.allowlist_mode)


# -- the checks --------------------------------------------------------------------------------


async def public_domain_blocks(svc: Services) -> list[DomainBlock]:
    """The blocks shown publicly (``noop`` ones without media rejection are left out)."""
    return [b for b in await list_domain_blocks(svc)
            if b.severity is not Severity.NOOP or b.reject_media]


# -- Mastodon's CSV ----------------------------------------------------------------------------


def _csv_bool(value: str, line: int, column: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"line {line}: {column} must be true or false, not {value!r}")


def parse_csv(text: str, *, own_domain: str | None = None) -> list[BlockSpec]:
    """Mastodon's domain-block CSV (with the ``#domain,#severity,…`` header; a header-less
    file is a plain list of domains to suspend); Invalid with the line number on any error."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise Invalid("the CSV file is empty")
    header = [cell.strip().lower() for cell in rows[0]]
    specs: list[BlockSpec] = []
    seen: set[str] = set()
    if header and header[0] == "#domain":
        unknown = [h for h in header if h not in CSV_HEADER]
        if unknown:
            raise Invalid(f"line 1: unknown column(s) {', '.join(unknown)}; expected "
                          + ",".join(CSV_HEADER))
        body = rows[1:]
        start = 2
    else:
        header, body, start = ["#domain"], rows, 1
    for number, row in enumerate(body, start=start):
        if len(row) != len(header):
            raise Invalid(f"line {number}: expected {len(header)} columns, got {len(row)}")
        cells = dict(zip(header, row, strict=True))
        try:
            domain = parse_domain(cells["#domain"], own_domain=own_domain)
            severity = parse_severity(cells.get("#severity", "suspend") or "suspend")
            public_comment = _comment(cells.get("#public_comment", ""), "Public comment")
        except Invalid as exc:
            raise Invalid(f"line {number}: {exc.message}") from None
        if domain in seen:
            raise Invalid(f"line {number}: {domain} appears twice")
        seen.add(domain)
        specs.append(BlockSpec(
            domain, severity,
            reject_media=_csv_bool(cells.get("#reject_media", ""), number, "#reject_media"),
            reject_reports=_csv_bool(cells.get("#reject_reports", ""), number,
                                     "#reject_reports"),
            public_comment=public_comment,
            obfuscate=_csv_bool(cells.get("#obfuscate", ""), number, "#obfuscate")))
    return specs


def render_csv(blocks: list[DomainBlock]) -> str:
    """Mastodon's export format (the private comment stays private)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for b in blocks:
        writer.writerow([b.domain, b.severity.value, str(b.reject_media).lower(),
                         str(b.reject_reports).lower(), b.public_comment,
                         str(b.obfuscate).lower()])
    return out.getvalue()


async def export_csv(svc: Services) -> str:
    """Every block in Mastodon's CSV format."""
    return render_csv(await list_domain_blocks(svc))


@forgets(POLICY_MEMO)
async def import_csv(svc: Services, actor: Account | None, text: str) -> int:
    """Import Mastodon's CSV: all rows or none (Invalid names the bad line); returns how many
    blocks were created or changed."""
    specs = parse_csv(text, own_domain=svc.config.domain)
    deleted: list[int] = []

    def write(db: Database) -> int:
        for spec in specs:
            _apply_block(db, actor, spec, svc, deleted)
        return len(specs)

    count = await svc.storage.write(write)
    _publish_deleted(svc, deleted)
    return count


async def first_refused(svc: Services, hosts: list[str]) -> HostPolicy | None:
    """The first of ``hosts`` federation is refused with, if any (one read)."""
    unique = list(dict.fromkeys(h for h in hosts if h))
    if not unique:
        return None
    cache = _cache(svc)
    policies = [cache.get(host) for host in unique]
    missing = [host for host, policy in zip(unique, policies, strict=True) if policy is None]
    if missing:
        for policy in await svc.storage.read(store.host_policies, missing):
            cache.put(policy)
        policies = [cache.get(host) for host in unique]
    return next((p for p in policies if p is not None and p.refused), None)
