"""Django's PostgreSQL backend with a health check that sends nothing when nothing happened
(issue 23, decision 2302).

`CONN_HEALTH_CHECKS` (decision 1941) makes Django check a persistent connection before the first
query of every request by sending `SELECT 1`: one more round trip per request for every API call
and page that reads the database (under load each round trip is a wait to be scheduled again).
What the check is for is a connection that PostgreSQL or pgbouncer closed meanwhile (a restart,
an idle timeout, a terminated backend). Such a server says so on the socket: it sends a FATAL
error and closes it, or just closes it, and either makes the socket readable while the connection
sits idle. So: an idle connection whose socket has nothing to read is usable, with no round trip;
anything to read (an error, end of file, a notice) or a connection not idle gets Django's own check
(`SELECT 1`), which replaces it if it fails. A connection closed on the client side is unusable,
as before.
"""

import select

from django.db.backends.postgresql import base
from psycopg2 import extensions

_IDLE = extensions.TRANSACTION_STATUS_IDLE
_POLL = getattr(select, "poll", None)  # not on Windows: Django's check there
_READABLE = (select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP) if _POLL else 0


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        quiet = False
        if _POLL is not None:
            try:
                poller = _POLL()
                poller.register(connection.fileno(), _READABLE)
                quiet = not poller.poll(0)
            except (OSError, ValueError, extensions.InterfaceError):
                quiet = False
        if quiet and connection.info.transaction_status == _IDLE:
            return True
        return super().is_usable()
