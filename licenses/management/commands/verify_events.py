"""`manage.py verify_events`: re-compute the chains of events and name the first broken link
of each broken chain (exit status 1), or say how many chains and events are intact (0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from licenses import audit
from licenses.events.verify import Report, check_heads, verify
from licenses.models import ChainSubject, Exporter


def _subject(value: str) -> tuple[str, int]:
    kind, _, pk = value.partition(":")
    if kind not in ChainSubject.values or not pk.isdigit():
        raise CommandError(
            f"--subject takes {' | '.join(ChainSubject.values)}:<id>, e.g. shipment:42; "
            f"not {value!r}."
        )
    return kind, int(pk)


class Command(BaseCommand):
    help = (
        "Re-compute every event's hash and its chain (one per application and shipment) and "
        "name the first broken link; exit status 1 when a chain is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--exporter", type=int, help="only the chains of this exporter (id)")
        parser.add_argument(
            "--subject", type=_subject, help="only this chain: application:<id> or shipment:<id>"
        )
        parser.add_argument(
            "--export",
            type=Path,
            help="an audit export (CSV or JSON): check that the chain heads it wrote down are "
            "still in the record, and verify its exporter's chains",
        )
        parser.add_argument(
            "--show", type=int, default=20, help="broken chains to name (default 20)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        exporter_id = options["exporter"]
        heads: list[tuple[str, int, int, str]] = []
        if options["export"] is not None:
            try:
                exported = audit.read_export(options["export"])
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read {options['export']}: {exc}") from exc
            exporter_id, heads = exported.exporter_id, exported.heads
        if exporter_id is not None and not Exporter.objects.filter(pk=exporter_id).exists():
            raise CommandError(f"No exporter {exporter_id}.")
        report = verify(
            exporter_id=exporter_id,
            subject=options["subject"],
            progress=lambda r: self.stderr.write(f"… {r.chains:,} chains, {r.events:,} events"),
        )
        exported_breaks = check_heads(heads)
        self.summarise(report, exported_breaks, heads, shown=options["show"])

    def summarise(self, report: Report, exported: list, heads: list, *, shown: int) -> None:
        if heads:
            self.stdout.write(
                f"{len(heads) - len(exported):,} of {len(heads):,} exported chain heads are "
                "in the record."
            )
        if report.intact and not exported:
            self.stdout.write(
                f"Intact: {report.chains:,} chains, {report.events:,} events verified."
            )
            return
        breaks = [*exported, *report.breaks]
        self.stdout.write(
            f"BROKEN: {report.broken_chains:,} of {report.chains:,} chains "
            f"({report.events:,} events verified); {len(exported):,} exported heads differ."
        )
        self.stdout.write(f"First broken link: {breaks[0].describe()}")
        for found in breaks[1:shown]:
            self.stdout.write(f"  {found.describe()}")
        if len(breaks) > shown:
            self.stdout.write(f"  … and {len(breaks) - shown:,} more.")
        raise CommandError("The event log's chains are broken.", returncode=1)
