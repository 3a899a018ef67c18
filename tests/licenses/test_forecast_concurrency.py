"""A forecast pass never waits for a row another move holds: two moves at the same authority,
each holding its own application and refreshing the other's forecast, would otherwise
deadlock. The row held is skipped (its own move refreshes it) and the rest are written."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from licenses.models import LicenseApplication
from licenses.services.forecasts import forecasts_refresh

from .test_forecast_service import bis_application, decided_history, moment

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_pass_skips_a_row_another_transaction_holds_instead_of_waiting(bis_item):
    from ..factories import ExporterFactory

    exporter = ExporterFactory()
    decided_history(exporter, bis_item)
    day0 = dt.date(2026, 6, 1)
    held = bis_application(exporter, bis_item, submitted=day0)
    free = bis_application(exporter, bis_item, submitted=day0)
    # Forget what the moves stored, so that the pass has both rows to write.
    LicenseApplication.objects.filter(pk__in=[held.pk, free.pk]).update(
        forecast_p50=None, forecast_level="", history_units=None
    )
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                LicenseApplication.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()
            done.set()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")  # waiting would fail here
            written = forecasts_refresh(now=moment(day0 + dt.timedelta(days=1)))
    finally:
        release.set()
        holder.join(30)
    assert done.is_set()
    assert free.pk in written and held.pk not in written
    assert LicenseApplication.objects.get(pk=free.pk).forecast_level == "destination"
    assert LicenseApplication.objects.get(pk=held.pk).forecast_level == ""
    # Once released, the next pass writes it.
    assert held.pk in forecasts_refresh(now=moment(day0 + dt.timedelta(days=1)))
