"""rollout_version for psycopg 3: integers both ways, in text and binary.

rollout_version is an extension type, so psycopg has no adapter for it: a
binary result arrives as 8 bytes, and an int parameter is sent as int2, int4
or int8 (which rollout_version takes through its implicit casts). Register
these once per connection (or on a connection pool's configure callback) to
read versions as int in either format, and to send RolloutVersion values as
rollout_version itself (what binary COPY needs, as it does no casting).
"""
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo


class RolloutVersion(int):
    """An int that psycopg sends as rollout_version."""


class VersionTextLoader(Loader):
    def load(self, data):
        return int(bytes(data))


class VersionBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data):
        return int.from_bytes(bytes(data), "big", signed=True)


class VersionTextDumper(Dumper):
    def dump(self, obj):
        return str(int(obj)).encode()


class VersionBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj):
        return int(obj).to_bytes(8, "big", signed=True)


def register_rollout_version(conn: psycopg.Connection) -> None:
    info = TypeInfo.fetch(conn, "rollout_version")
    if info is None:
        raise psycopg.ProgrammingError("rollout_version not found: CREATE EXTENSION rollout_ext first")
    info.register(conn)
    conn.adapters.register_loader(info.oid, VersionTextLoader)
    conn.adapters.register_loader(info.oid, VersionBinaryLoader)
    for dumper in (VersionTextDumper, VersionBinaryDumper):
        typed = type(dumper.__name__, (dumper,), {"oid": info.oid})
        conn.adapters.register_dumper(RolloutVersion, typed)
