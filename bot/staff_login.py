"""The staff console's login: one password (or long token) from the environment, kept only as a scrypt
hash, with a lockout per client address after repeated failures.

    FAQBOT_STAFF_PASSWORD_HASH=$(.venv/bin/python -m bot.staff_login)   # asks for the password, prints a hash
    login = StaffLogin.from_env()       # None when neither variable is set
    login("staff", "the password")      # Gradio's auth callable: True or False (one scrypt, ~50 ms)

FAQBOT_STAFF_PASSWORD (plain, at least 12 characters) is accepted too: it is hashed at start-up and
removed from the process environment. FAQBOT_STAFF_USER names the user (default "staff").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import OrderedDict

ENV_HASH = "FAQBOT_STAFF_PASSWORD_HASH"
ENV_PASSWORD = "FAQBOT_STAFF_PASSWORD"
ENV_USER = "FAQBOT_STAFF_USER"
MIN_PASSWORD_CHARS = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1     # 16 MiB and ~50 ms per try
MAX_FAILURES = 5            # failed logins from one address ...
FAILURE_WINDOW_S = 900      # ... within 15 minutes lock it out ...
LOCKOUT_S = 900             # ... for 15 minutes
MAX_TRACKED = 10_000


class LoginConfigError(ValueError):
    """The staff password or hash in the environment is unusable."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None, n: int = SCRYPT_N) -> str:
    """"scrypt$N$r$p$salt$hash" (base64), the form FAQBOT_STAFF_PASSWORD_HASH takes."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=256 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    try:
        scheme, n, r, p, salt, digest = encoded.strip().split("$")
        if scheme != "scrypt":
            raise ValueError(scheme)
        parsed = int(n), int(r), int(p), base64.b64decode(salt, validate=True), base64.b64decode(digest, validate=True)
    except ValueError as exc:
        raise LoginConfigError(f"{ENV_HASH} is not a hash made by `python -m bot.staff_login`") from exc
    if parsed[0] < 2 ** 14 or parsed[0] & (parsed[0] - 1) or len(parsed[3]) < 16 or len(parsed[4]) < 16:
        raise LoginConfigError(f"{ENV_HASH} is too weak (scrypt N >= 16384, 16-byte salt)")
    return parsed


def verify_password(password: str, encoded: str) -> bool:
    n, r, p, salt, digest = _parse(encoded)
    tried = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024,
                           dklen=len(digest))
    return hmac.compare_digest(tried, digest)


class Lockout:
    """Failed logins per client address; locked for LOCKOUT_S after MAX_FAILURES within the window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S,
                 lockout_s: float = LOCKOUT_S) -> None:
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    def remaining(self, client: str) -> float:
        """Seconds this client stays locked out (0 when it may try)."""
        with self._lock:
            until = self._locked.get(client, 0.0)
            left = until - time.monotonic()
            if left <= 0 and client in self._locked:
                del self._locked[client]
            return max(0.0, left)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            times = [t for t in self._failures.pop(client, []) if now - t < self.window_s] + [now]
            if len(times) >= self.max_failures:
                self._locked[client] = now + self.lockout_s
                times = []
            self._failures[client] = times
            while len(self._failures) > MAX_TRACKED:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class StaffLogin:
    """Gradio's `auth` callable over one user and a scrypt hash, with the lockout kept beside it."""

    def __init__(self, user: str, encoded: str) -> None:
        _parse(encoded)
        self.user = user
        self._encoded = encoded
        self.lockout = Lockout()

    def __call__(self, username: str, password: str) -> bool:
        # The hash is always computed, so a wrong user name takes as long as a wrong password.
        ok = verify_password(password or "", self._encoded)
        return ok and hmac.compare_digest((username or "").encode(), self.user.encode())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StaffLogin | None:
        env = os.environ if environ is None else environ
        user = env.get(ENV_USER, "staff").strip() or "staff"
        encoded = env.get(ENV_HASH, "").strip()
        if encoded:
            return cls(user, encoded)
        password = env.get(ENV_PASSWORD, "")
        if not password:
            return None
        if len(password) < MIN_PASSWORD_CHARS:
            raise LoginConfigError(f"{ENV_PASSWORD} must be at least {MIN_PASSWORD_CHARS} characters")
        login = cls(user, hash_password(password))
        if environ is None:
            os.environ.pop(ENV_PASSWORD, None)   # only the hash stays in this process
        return login


def is_loopback(host: str) -> bool:
    """True for a host only this machine can reach (localhost, 127.0.0.0/8, ::1)."""
    name = (host or "").strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def mount_decision(host: str, login: StaffLogin | None, trusted_proxies: tuple[str, ...] = ()) -> tuple[bool, str]:
    """Whether to mount the console, and why. Without a login it is mounted only on a loopback host with
    no reverse proxy in front (a proxy would make it reachable from anywhere)."""
    if login is not None:
        return True, f"staff console at /staff/ behind a login (user {login.user!r})"
    if is_loopback(host) and not trusted_proxies:
        return True, (f"staff console at /staff/ WITHOUT a login, on loopback {host} only; set {ENV_HASH} "
                      "before exposing it")
    return False, (f"staff console not mounted: {host} is not a loopback address (or a proxy is trusted) and "
                   f"neither {ENV_HASH} nor {ENV_PASSWORD} is set")


def main() -> int:
    import getpass

    password = getpass.getpass("Staff console password (12+ characters): ")
    if len(password) < MIN_PASSWORD_CHARS:
        print(f"too short: at least {MIN_PASSWORD_CHARS} characters")
        return 2
    if getpass.getpass("Again: ") != password:
        print("the two entries differ")
        return 2
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
