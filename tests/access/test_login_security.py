"""Login protection: lockout after repeated failures (django-axes) and TOTP two-factor authentication.

Codes are computed in the test from the device's secret with the RFC 6238 algorithm (django-otp's ``TOTP``),
exactly as an authenticator app would.
"""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from inbox.access.models import AuditLog
from inbox.access.services import two_factor
from inbox.models import Membership, Role
from tests.access.factories import member
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def org():
    return OrganizationFactory(name="Shop")


@pytest.fixture
def owner(org):
    return member(org, Role.OWNER, username="olga").user


def code_for(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def enrol(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    client.force_login(user)
    client.post("/settings/security/", {"action": "start"})
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post("/settings/security/", {"action": "confirm", "code": code_for(device)})
    assert page.status_code == 200
    codes = re.findall(r"<code>([0-9a-z]+)</code>", page.content.decode())
    client.logout()
    device.refresh_from_db()
    return device, codes


# --- lockout -----------------------------------------------------------------------------------------------------


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_login_with_a_clear_message_and_an_audit_row(owner, org):
    client = Client()
    for _ in range(2):
        response = log_in(client, "olga", "wrong")
        assert response.status_code == 200 and b"didn" in response.content  # the ordinary "did not match"
    locked = log_in(client, "olga", "wrong")
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content and b"15 minutes" in locked.content
    # Now even the right password is refused, from this address, without being checked.
    assert log_in(client, "olga").status_code == 429
    assert not is_logged_in(client)
    # Another address is not locked out by a stranger's guesses.
    assert log_in(Client(), "olga", REMOTE_ADDR="198.51.100.7").status_code == 302
    rows = AuditLog.objects.filter(organization=org, action="security.login_locked_out")
    assert rows.count() == 1  # once per cool-off, not once per refused try
    assert rows.get().target_label == "olga" and rows.get().ip == "127.0.0.1" and rows.get().actor is None


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_successful_login_resets_the_count(owner):
    client = Client()
    log_in(client, "olga", "wrong")
    log_in(client, "olga", "wrong")
    assert log_in(client, "olga").status_code == 302
    client.logout()
    log_in(client, "olga", "wrong")
    log_in(client, "olga", "wrong")
    assert log_in(client, "olga").status_code == 302  # still allowed: the earlier two failures were forgotten


@override_settings(AXES_FAILURE_LIMIT=2, AXES_COOLOFF_TIME=__import__("datetime").timedelta(seconds=1))
def test_the_lockout_ends_after_the_cool_off(owner):
    client = Client()
    log_in(client, "olga", "wrong")
    assert log_in(client, "olga", "wrong").status_code == 429
    time.sleep(1.2)
    assert log_in(client, "olga").status_code == 302


def test_the_admin_site_logs_in_through_the_protected_login():
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- two-factor authentication -------------------------------------------------------------------------------------


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # django-otp pauses a device 1 s after a wrong code
def test_enrolment_shows_a_qr_code_and_the_secret_and_needs_a_right_code(owner):
    client = Client()
    client.force_login(owner)
    client.post("/settings/security/", {"action": "start"})
    page = client.get("/settings/security/")
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    body = page.content.decode()
    assert "<svg" in body and two_factor.totp_secret_base32(device) in body
    assert page["Cache-Control"] == "no-store"
    client.post("/settings/security/", {"action": "confirm", "code": "000000" if code_for(device) != "000000" else "1"})
    assert not two_factor.has_two_factor(owner)
    confirmed = client.post("/settings/security/", {"action": "confirm", "code": code_for(device)})
    assert two_factor.has_two_factor(owner)
    codes = re.findall(r"<code>([0-9a-z]+)</code>", confirmed.content.decode())
    assert len(codes) == two_factor.BACKUP_CODE_COUNT
    assert AuditLog.objects.filter(action="security.2fa_enabled", actor=owner).exists()
    assert two_factor.totp_secret_base32(device) not in client.get("/settings/security/").content.decode()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_an_enrolled_owner_needs_the_code_after_the_password(owner):
    device, _codes = enrol(Client(), owner)
    client = Client()
    response = log_in(client, "olga")
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    assert not is_logged_in(client)  # the password alone logs nobody in
    assert client.get("/inbox/").status_code == 302
    wrong = client.post("/login/verify/", {"code": "12345" + ("0" if code_for(device)[-1] != "0" else "1")})
    assert wrong.status_code == 400 and b"not right" in wrong.content and not is_logged_in(client)
    ok = client.post("/login/verify/", {"code": code_for(device, offset=1)[:3] + " " + code_for(device, offset=1)[3:]})
    assert ok.status_code == 302 and is_logged_in(client)


def test_a_backup_code_logs_in_once(owner):
    _device, codes = enrol(Client(), owner)
    client = Client()
    log_in(client, "olga")
    assert client.post("/login/verify/", {"code": codes[0]}).status_code == 302
    client.logout()
    log_in(client, "olga")
    assert client.post("/login/verify/", {"code": codes[0]}).status_code == 400
    assert two_factor.backup_codes_left(owner) == two_factor.BACKUP_CODE_COUNT - 1


def test_the_code_step_without_the_password_step_goes_back_to_login(owner):
    device, _ = enrol(Client(), owner)
    client = Client()
    response = client.post("/login/verify/", {"code": code_for(device)})
    assert response.status_code == 302 and "/login/" in response["Location"] and not is_logged_in(client)


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_codes_count_toward_the_lockout(owner):
    enrol(Client(), owner)
    client = Client()
    log_in(client, "olga")
    client.post("/login/verify/", {"code": "000001"})
    client.post("/login/verify/", {"code": "000002"})
    assert client.post("/login/verify/", {"code": "000003"}).status_code == 429
    assert not is_logged_in(client)


def test_turning_2fa_off_needs_a_current_code(owner):
    device, _ = enrol(Client(), owner)
    client = Client()
    client.force_login(owner)
    client.post("/settings/security/", {"action": "disable", "code": "nonsense"})
    assert two_factor.has_two_factor(owner)
    client.post("/settings/security/", {"action": "disable", "code": code_for(device, offset=1)})
    assert not two_factor.has_two_factor(owner)
    assert log_in(Client(), "olga")["Location"] != "/login/verify/"


def test_a_manager_resets_a_members_2fa_when_phone_and_codes_are_lost(org, owner):
    admin = member(org, Role.ADMIN, username="adam").user
    enrol(Client(), admin)
    other_admin = member(org, Role.ADMIN, username="ada").user
    client = Client()
    membership = Membership.objects.get(user=admin, organization=org)
    client.force_login(other_admin)
    client.post("/settings/members/", {"action": "reset-2fa", "member": membership.pk})
    assert two_factor.has_two_factor(admin)  # only the owner changes an admin
    client.force_login(owner)
    page = client.get("/settings/members/")
    assert b"Reset two-factor" in page.content
    client.post("/settings/members/", {"action": "reset-2fa", "member": membership.pk})
    assert not two_factor.has_two_factor(admin)
    entry = AuditLog.objects.get(action="security.2fa_reset")
    assert entry.actor == owner and entry.target_id == str(membership.pk)
