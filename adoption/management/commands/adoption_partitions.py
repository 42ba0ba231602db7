"""The monthly partitions of the usage-events table (PostgreSQL): list them, create the coming
months, retire the expired ones, or detach one month without stopping ingestion.

    manage.py adoption_partitions                       # list: month, rows (estimate), size
    manage.py adoption_partitions --maintain            # what the daily beat job does
    manage.py adoption_partitions --detach adoption_usageevent_p2024_11 [--drop]

`--detach` runs `ALTER TABLE adoption_usageevent DETACH PARTITION ... CONCURRENTLY`: only a
SHARE UPDATE EXCLUSIVE lock on the events table, so ingestion and the pages go on meanwhile.
The detached table keeps its rows (archive it with pg_dump -t, then DROP TABLE) unless --drop.
If a concurrent detach is interrupted, the partition is left "detach pending": run
`ALTER TABLE adoption_usageevent DETACH PARTITION <name> FINALIZE` (docs/adoption.md).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from adoption import partitions


class Command(BaseCommand):
    help = "List, maintain or detach the monthly partitions of the usage-events table (PostgreSQL)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--maintain", action="store_true",
                           help="create the coming months; detach and drop those past ADOPTION_EVENT_RETENTION_MONTHS")
        which.add_argument("--detach", metavar="PARTITION", help="detach this partition without blocking writes")
        parser.add_argument("--drop", action="store_true", help="with --detach: drop the detached table too")

    def handle(self, *args, maintain, detach, drop, **options):
        if not partitions.enabled():
            raise CommandError("The usage-events table is not partitioned here (partitions are PostgreSQL only).")
        if maintain:
            done = partitions.maintain(timezone.now())
            self.stdout.write(f"created: {', '.join(done['created']) or 'none'}; "
                              f"dropped: {', '.join(done['dropped']) or 'none'}")
            return
        if detach:
            if connection.in_atomic_block:
                raise CommandError("DETACH ... CONCURRENTLY cannot run inside a transaction.")
            try:
                partitions.detach(detach, concurrently=True, drop=drop)
            except ValueError as e:
                raise CommandError(str(e)) from e
            self.stdout.write(f"{detach} detached{' and dropped' if drop else ''}.")
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
                [partitions.PARENT])
            for name, rows, size in cursor.fetchall():
                self.stdout.write(f"{name}\t~{max(rows, 0):,} rows\t{size / 1_048_576:.1f} MB")
