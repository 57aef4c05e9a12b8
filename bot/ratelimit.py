"""Per-client rate limits: a token bucket in memory, or shared across replicas through Redis.

    limiter = make_limiter(per_minute=60, burst=20, redis_url=None)   # namespace="fb" for a separate budget
    allowed, retry_after = limiter.hit("203.0.113.7")
    client_address(request, trusted_proxies)   # who a request counts against
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_CLIENTS = 50_000   # oldest buckets are dropped so memory stays flat under many addresses


class MemoryRateLimiter:
    def __init__(self, per_minute: int, burst: int) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("rate limits must be at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> tuple[bool, float]:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate


class RedisRateLimiter:
    """A fixed one-minute window per client in Redis, shared by every replica."""

    def __init__(self, url: str, per_minute: int, burst: int, namespace: str = "rl") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.limit = per_minute + burst
        self.fallback = MemoryRateLimiter(per_minute, burst)
        self.namespace = namespace

    def hit(self, client: str) -> tuple[bool, float]:
        window = int(time.time() // 60)
        key = f"faqbot:{self.namespace}:{client}:{window}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count = pipe.execute()[0]
        except Exception:  # noqa: BLE001 - Redis down: keep limiting, per replica
            return self.fallback.hit(client)
        if count <= self.limit:
            return True, 0.0
        return False, 60.0 - time.time() % 60


def make_limiter(per_minute: int, burst: int, redis_url: str | None = None, namespace: str = "rl"):  # noqa: ANN201
    """`namespace` keeps each endpoint's Redis counters apart ("rl" chat, "fb" feedback)."""
    if redis_url:
        return RedisRateLimiter(redis_url, per_minute, burst, namespace)
    return MemoryRateLimiter(per_minute, burst)


def client_address(request, trusted_proxies: tuple[str, ...] | set[str] = ()) -> str:  # noqa: ANN001
    """The address limits are kept for: the peer, or X-Forwarded-For's first hop behind a trusted proxy."""
    client = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if client in trusted_proxies and forwarded:
        client = forwarded.split(",")[0].strip()[:64]
    return client
