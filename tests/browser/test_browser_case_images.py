"""A case image reaches the phones and the projector, through the CSP and the image view (issue 16)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.live_moderator import shell
from tests.browser.pages import PHONE, PROJECTOR, open_phone, open_presenter

pytestmark = pytest.mark.browser

ADD_IMAGE = """
import io
from PIL import Image
from cases.images import prepare_image
from cases.models import Case, CaseImage
from polls import services
from polls.models import Event
buffer = io.BytesIO()
Image.new("RGB", (800, 600), (40, 120, 200)).save(buffer, "PNG")
prepared = prepare_image(buffer.getvalue())
case = Case.objects.get(title="Case Summary 2")
image = CaseImage.objects.create(
    case=case, position=1, caption="PET-CT at relapse", alt_text="A blue square standing in for a PET-CT slice",
    content=prepared.content, width=prepared.width, height=prepared.height, no_identifiers_in_pixels=True,
)
event = Event.objects.get(code="CASE2")
services.case_show(event_id=event.id, case_id=case.id, user=None)
print(image.id)
"""
REMOVE_IMAGES = "from cases.models import CaseImage; CaseImage.objects.all().delete(); print('ok')"


def test_a_case_image_is_shown_on_the_phone_and_the_projector(demo, contexts, moderator_storage):
    image_id = shell(demo, ADD_IMAGE)
    try:
        phone = open_phone(contexts(viewport=PHONE, is_mobile=True, has_touch=True))
        presenter = open_presenter(contexts(viewport=PROJECTOR, storage_state=moderator_storage))
        for page in (phone, presenter):
            figure = page.get_by_test_id("case-image")
            expect(figure).to_be_visible()
            image = figure.get_by_role("img", name="A blue square standing in for a PET-CT slice")
            expect(image).to_have_attribute("src", f"/e/CASE2/images/{image_id}")
            expect(figure).to_contain_text("PET-CT at relapse")
            # Loaded, not a broken icon: the image view served it and the CSP let it in (it loads
            # lazily: once scrolled to, on a phone).
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth === 800", arg=image.element_handle(), timeout=10_000
            )
        box = presenter.get_by_test_id("case-image").bounding_box()
        assert box["y"] + box["height"] <= PROJECTOR["height"] + 1  # on screen, not clipped below it
    finally:
        shell(demo, REMOVE_IMAGES)
