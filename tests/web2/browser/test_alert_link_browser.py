"""An alert e-mail's link, followed in a real browser, opens the page of the shipment it is
about: the e-mail is rendered as it is sent, shown in Chromium, and its button clicked."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from monitoring.alerts import alert_message
from monitoring.models import Alert
from shipments import services as shipping

from ...factories import item

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_link_of_a_shipment_alert_opens_that_shipments_page(
    page, sign_in, officer, world, problems, live_server, settings
):
    settings.SITE_URL = live_server.url
    now = timezone.now()  # the browser judges cookies by the real clock: so does this test
    goods = shipping.shipment_create(
        now=now,
        actor=None,
        exporter=world.mine.exporter,
        reference="GZ-SHP-LATE",
        item=item("1C902"),
        quantity=Decimal("10"),
        value=Decimal("2000"),
        currency="USD",
        destination="DE",
        consignee=world.mine.consignee,
        planned_ship_date=(now + dt.timedelta(days=10)).date(),
    )
    # Too late to file for a decision in time: `file_by` is raised, and its alert written.
    alert = Alert.objects.get(flag__shipment=goods, flag__kind="file_by", user=officer)
    message = alert_message(alert, now=now)
    link = f"{live_server.url}/shipments/{goods.pk}/"
    assert re.findall(r"https?://\S+/shipments/\d+/", message.body) == [link]
    [(html, _mimetype)] = message.alternatives

    sign_in(officer)
    page.set_content(html)
    page.get_by_role("link", name="Open the shipment").click()
    page.wait_for_url(link)
    assert page.locator("h1").inner_text().startswith("Shipment GZ-SHP-LATE")
    assert problems.console == [] and problems.page_errors == [] and problems.csp(page) == []
