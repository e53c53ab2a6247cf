"""A real browser (Debian's headless Chromium, driven by Selenium through chromedriver) against
a real server: an admin logs in and creates an invite in the web admin, a newcomer signs up
with the invite link and logs in, an applicant signs up in approval mode, the admin approves
them and blocks a domain. No JavaScript is involved: plain forms, CSRF tokens and cookies,
as a resident's phone would do it.

The browser runs in a thread (Selenium is blocking) while the server answers on the test's
event loop; the database is checked between the steps."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from fediverse_mu.domain import Role
from fediverse_mu.services import federation_policy, invites, registration
from tests.conftest import PASSWORD, RealServer, count, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1024")


def start_browser(profile: str) -> WebDriver:
    """Headless Chromium with a fresh profile (no network but the test server)."""
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--lang=fr")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture
async def browser() -> AsyncIterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="fmu-chromium-")
    driver = await asyncio.to_thread(start_browser, profile)
    try:
        yield driver
    finally:
        await asyncio.to_thread(driver.quit)
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: WebDriver, css: str) -> None:
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def fill(driver: WebDriver, **fields: str) -> None:
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def submit(driver: WebDriver, form_action: str) -> None:
    """Click the submit button of the form posting to ``form_action``, wait for the next page."""
    button = driver.find_element(By.CSS_SELECTOR,
                                 f'form[action^="{form_action}"] button[type="submit"]')
    button.click()
    WebDriverWait(driver, 30).until(ec.staleness_of(button))


def log_in(driver: WebDriver, base: str, name: str, password: str, next_path: str) -> None:
    driver.get(f"{base}/login?next={next_path}")
    wait_for(driver, 'input[name="username"]')
    fill(driver, username=name, password=password)
    submit(driver, "/login")


def log_out(driver: WebDriver) -> None:
    submit(driver, "/logout")


def admin_creates_an_invite(driver: WebDriver, base: str) -> str:
    log_in(driver, base, "boss", PASSWORD, "/admin/invites")
    assert driver.current_url.startswith(f"{base}/admin/invites"), driver.current_url
    fill(driver, max_uses="1", expires_days="7")
    submit(driver, "/admin/invites")
    wait_for(driver, "svg.qr")
    link = driver.find_element(By.ID, "invite-link").text
    log_out(driver)
    return link


def newcomer_signs_up_with_the_invite(driver: WebDriver, base: str, link: str) -> None:
    driver.get(link)
    wait_for(driver, 'input[name="username"]')
    assert driver.find_element(By.NAME, "invite_code").get_attribute("value") == \
        link.rsplit("/", 1)[1]
    fill(driver, username="newcomer", email="newcomer@example.test",
         password="a long new password")
    driver.find_element(By.ID, "agreement").click()
    submit(driver, "/signup")
    assert "/signup/welcome" in driver.current_url, driver.current_url
    log_in(driver, base, "newcomer", "a long new password", "/")
    assert "@newcomer" in driver.find_element(By.CSS_SELECTOR, "nav.account").text
    log_out(driver)


def applicant_applies(driver: WebDriver, base: str) -> None:
    driver.get(f"{base}/signup")
    wait_for(driver, 'textarea[name="reason"]')
    fill(driver, username="applicant", email="applicant@example.test",
         password="another long password", reason="J'anime l'atelier couture.")
    driver.find_element(By.ID, "agreement").click()
    submit(driver, "/signup")
    assert "/signup/pending" in driver.current_url, driver.current_url


def admin_approves_and_blocks(driver: WebDriver, base: str, applicant_id: int) -> None:
    log_in(driver, base, "boss", PASSWORD, "/admin/signups")
    row = driver.find_element(By.ID, f"signup-{applicant_id}")
    assert "J'anime l'atelier couture." in row.text
    button = row.find_element(By.CSS_SELECTOR, 'button[name="approve"]')
    button.click()
    WebDriverWait(driver, 30).until(ec.staleness_of(button))
    wait_for(driver, "p.notice")
    driver.get(f"{base}/admin/federation")
    wait_for(driver, 'input[name="domain"]')
    fill(driver, **{"public_comment": "harcèlement"})
    driver.find_element(By.ID, "block-domain").send_keys("trolls.example")
    driver.find_element(By.CSS_SELECTOR, 'select[name="severity"] option[value="suspend"]').click()
    submit(driver, "/admin/federation/block")
    wait_for(driver, "#domain-blocks")
    assert "trolls.example" in driver.find_element(By.ID, "domain-blocks").text


async def test_invite_sign_up_login_approval_and_domain_block_in_a_real_browser(
        real_server: RealServer, browser: WebDriver) -> None:
    svc = real_server.svc
    base = real_server.base_url
    await make_user(svc, "boss", role=Role.ADMIN)
    await registration.set_registration_mode(svc, None, "approval")

    link = await asyncio.to_thread(admin_creates_an_invite, browser, base)
    (invite,) = await invites.list_invites(svc)
    assert link == invites.invite_url(svc, invite) and invite.max_uses == 1

    await asyncio.to_thread(newcomer_signs_up_with_the_invite, browser, base, link)
    assert (await invites.get_invite(svc, invite.id)).uses == 1
    assert await count(svc, "SELECT approved FROM users u JOIN accounts a ON a.id = u.account_id"
                            " WHERE a.username = 'newcomer'") == 1

    await asyncio.to_thread(applicant_applies, browser, base)
    (application,) = await registration.list_pending(svc)
    assert application.account.username == "applicant"

    await asyncio.to_thread(admin_approves_and_blocks, browser, base, application.user.id)
    assert await registration.list_pending(svc) == []
    blocks = {b.domain: b for b in await federation_policy.list_domain_blocks(svc)}
    assert blocks["trolls.example"].severity == "suspend"
    assert blocks["trolls.example"].public_comment == "harcèlement"
