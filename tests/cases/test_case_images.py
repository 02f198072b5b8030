"""Case images (issue 16): only pixels survive an upload; bad files are refused with the reason."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cases.images import MAX_SIDE, ImageRefused, prepare_image
from cases.models import Case, CaseImage
from polls import demo, services
from tests.factories import make_moderator

ORIENTATION, MAKE, DATETIME_ORIGINAL, GPS = 0x0112, 0x010F, 0x9003, 0x8825


def photo(size=(300, 200), fmt="JPEG", orientation=6) -> bytes:
    """A photo as a phone camera writes it: EXIF with the camera, the date, GPS and a rotation."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "PhoneCam"
    exif[ORIENTATION] = orientation
    exif[DATETIME_ORIGINAL] = "2024:03:14 09:26:53"
    exif.get_ifd(GPS)[2] = (39.0, 49.0, 0.0)
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif, comment=b"Patient J. Smith") if fmt == "JPEG" else image.save(
        out, format=fmt, exif=exif
    )
    return out.getvalue()


def test_only_the_pixels_survive_upright():
    prepared = prepare_image(photo())
    stored = Image.open(io.BytesIO(prepared.content))
    assert stored.format == "WEBP" and prepared.content_type == "image/webp"
    assert not stored.getexif() and not {"exif", "xmp", "comment", "icc_profile"} & set(stored.info)
    assert b"PhoneCam" not in prepared.content and b"Smith" not in prepared.content
    assert (prepared.width, prepared.height) == (200, 300)  # turned upright by its orientation, then forgotten


def test_a_large_image_is_scaled_to_fit_a_screen():
    prepared = prepare_image(photo(size=(4000, 1000), fmt="PNG", orientation=1))
    assert (prepared.width, prepared.height) == (MAX_SIDE, 500)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x00" * (50 * 2**20), "the limit is 10 MB"),
        (b"%PDF-1.7 not an image", "not an image Caseboard can read"),
        (photo()[:200], "not an image Caseboard can read"),
    ],
)
def test_what_cannot_be_a_case_image_is_refused_with_the_reason(data, reason):
    with pytest.raises(ImageRefused) as refused:
        prepare_image(data)
    assert reason in str(refused.value)


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")  # 100 megapixels in a few KB
    with pytest.raises(ImageRefused) as refused:
        prepare_image(out.getvalue())
    assert "too many pixels" in str(refused.value)


@pytest.mark.django_db
def test_an_image_uploaded_on_the_case_page_reaches_the_room_and_no_one_else(admin_client, client):
    from polls.models import AgendaItem
    from tests.cases.test_case_admin import CASE, case_form

    event = demo.load_demo(password="demo-password-for-tests").event
    url = reverse("admin:cases_case_add")
    row = {"position": "1", "alt_text": "A red square standing in for a scan"}
    refused = admin_client.post(url, case_form(images=[row]))  # no file, no confirmation
    assert refused.status_code == 200 and not CaseImage.objects.exists()
    upload = SimpleUploadedFile("scan.jpg", photo(), content_type="image/jpeg")
    row |= {"upload": upload, "caption": "PET-CT at relapse", "no_identifiers_in_pixels": "on"}
    saved = admin_client.post(url, case_form(images=[row]))
    assert saved.status_code == 302, saved.context and saved.context["inline_admin_formsets"][-1].formset.errors
    case = Case.objects.get(title=CASE["title"])
    AgendaItem.objects.create(event=event, case=case, position=2)
    image = CaseImage.objects.get(case=case)
    assert (image.width, image.height) == (200, 300) and b"PhoneCam" not in bytes(image.content)

    path = f"/e/{event.code}/images/{image.pk}"
    assert client.get(path).status_code == 404  # the case is not on screen yet
    services.case_show(event_id=event.id, case_id=case.id, user=None)
    served = client.get(path)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert "private" in served["Cache-Control"]
    other = Case.objects.create(title="Other", disease="x", diagnosis="y", patient_age=50, patient_sex="female")
    outsider = CaseImage.objects.create(
        case=other, alt_text="x", content=image.content, width=1, height=1, no_identifiers_in_pixels=True
    )
    assert client.get(f"/e/{event.code}/images/{outsider.pk}").status_code == 404  # not on this agenda
    client.force_login(make_moderator())
    assert client.get(f"/e/{event.code}/images/{image.pk}").status_code == 200  # current case: anyone in the room


@pytest.mark.django_db
def test_the_state_frame_names_the_cases_images_without_their_bytes():
    from polls import selectors
    from polls.protocol.payloads import case_payload

    case = demo.load_demo(password="demo-password-for-tests").case
    CaseImage.objects.create(
        case=case, position=1, caption="PET-CT", alt_text="A scan", content=b"x", width=4, height=3,
        no_identifiers_in_pixels=True,
    )  # fmt: skip
    payload = case_payload(selectors.case_for_screen(case_id=case.id))
    assert payload["images"] == [
        {"id": case.images.get().id, "caption": "PET-CT", "alt": "A scan", "width": 4, "height": 3}
    ]
