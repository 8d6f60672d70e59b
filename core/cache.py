"""Django's Redis cache with one `redis.Redis` client per connection pool, reused.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every operation, and redis-py fills each
new client's table of response callbacks (about 170 entries): a fifth of the time of a page served from the
public read cache (three cache operations with the throttle's; docs/performance.md, issue 25). A client is a
thin handle on its pool and safe to share between threads, so one per pool serves every operation.
`registry/settings.py` puts this backend in place of Django's for a `redis://` CACHE_URL.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
