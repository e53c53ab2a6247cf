"""Instance rules: listed at sign-up, in ``/api/v1/instance/rules`` and the v2 instance, cited
by reports. Admins add, edit and remove them; each change is audited."""

from __future__ import annotations

from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.rules import MAX_RULE_HINT, MAX_RULE_TEXT, Rule
from fediverse_mu.services import audit
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import rules as store


def _clean(text: str, hint: str) -> tuple[str, str]:
    text, hint = text.strip(), hint.strip()
    if not text:
        raise Invalid("Validation failed: Text can't be blank")
    if len(text) > MAX_RULE_TEXT:
        raise Invalid(f"Validation failed: Text is too long (maximum is {MAX_RULE_TEXT} "
                      "characters)")
    if len(hint) > MAX_RULE_HINT:
        raise Invalid(f"Validation failed: Hint is too long (maximum is {MAX_RULE_HINT} "
                      "characters)")
    return text, hint


async def list_rules(svc: Services) -> list[Rule]:
    """Every rule, in display order."""
    return await svc.storage.read(store.list_rules)


async def get_rule(svc: Services, rule_id: int) -> Rule:
    """One rule, or NotFound."""
    rule = await svc.storage.read(store.get_rule, rule_id)
    if rule is None:
        raise NotFound("Record not found")
    return rule


async def add_rule(svc: Services, actor: Account | None, text: str, hint: str = "",
                   position: int | None = None) -> Rule:
    """Add a rule at the end (or at ``position``)."""
    text, hint = _clean(text, hint)

    def write(db: Database) -> Rule:
        rule = store.put_rule(db, text=text, hint=hint, position=position, now=svc.now())
        audit.record_in(db, actor, "rule.create", f"rule {rule.id}", text, svc.now())
        return rule

    return await svc.storage.write(write)


async def update_rule(svc: Services, actor: Account | None, rule_id: int, *, text: str,
                      hint: str = "", position: int | None = None) -> Rule:
    """Change a rule's text, hint or position."""
    text, hint = _clean(text, hint)

    def write(db: Database) -> Rule:
        current = store.get_rule(db, rule_id)
        if current is None:
            raise NotFound("Record not found")
        rule = store.update_rule(db, rule_id, text=text, hint=hint,
                                 position=current.position if position is None else position,
                                 now=svc.now())
        assert rule is not None
        audit.record_in(db, actor, "rule.update", f"rule {rule_id}", text, svc.now())
        return rule

    return await svc.storage.write(write)


async def remove_rule(svc: Services, actor: Account | None, rule_id: int) -> None:
    """Remove a rule (reports citing it keep its id)."""

    def write(db: Database) -> None:
        current = store.get_rule(db, rule_id)
        if current is None or not store.delete_rule(db, rule_id):
            raise NotFound("Record not found")
        audit.record_in(db, actor, "rule.delete", f"rule {rule_id}", current.text, svc.now())

    await svc.storage.write(write)
