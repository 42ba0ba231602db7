"""Portal logo: admins upload an image checked by its content (type, size, dimensions); the portal
serves it with that type, nosniff and a sandboxing CSP."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from discovery import services
from discovery.models import Portal

pytestmark = pytest.mark.django_db


def _image(fmt="PNG", size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (31, 111, 235)).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def portal(admin, product):
    return services.portal_save(user=admin, product=product, data={"slug": "acme", "name": "Acme ideas",
                                                                   "enabled": True})


def _url(workspace, product):
    return reverse("discovery:portal", kwargs={"ws": workspace.slug, "product_id": product.id})


def _post(client, workspace, product, data, name="logo.png", content_type="image/png"):
    return client.post(_url(workspace, product), {"action": "logo",
                                                  "logo": SimpleUploadedFile(name, data, content_type)})


def test_admin_uploads_a_logo_served_with_its_real_type(client, client_as, admin, workspace, product, portal):
    png = _image()
    response = _post(client_as(admin), workspace, product, png, name="logo.svg", content_type="image/svg+xml")
    assert response.status_code == 302
    row = Portal.objects.get(pk=portal.pk)
    assert bytes(row.logo) == png and row.logo_type == "image/png"  # by content, not name or browser
    served = client.get(reverse("portal:logo", kwargs={"slug": "acme"}))
    assert served.status_code == 200 and served["Content-Type"] == "image/png" and served.content == png
    assert served["X-Content-Type-Options"] == "nosniff" and "sandbox" in served["Content-Security-Policy"]
    assert 'class="portal-logo"' in client.get(reverse("portal:home", kwargs={"slug": "acme"})).content.decode()
    jpeg = _image("JPEG")
    assert _post(client_as(admin), workspace, product, jpeg, name="x.png").status_code == 302
    assert Portal.objects.get(pk=portal.pk).logo_type == "image/jpeg"
    assert client_as(admin).post(_url(workspace, product), {"action": "logo_remove"}).status_code == 302
    assert Portal.objects.get(pk=portal.pk).logo is None
    assert client.get(reverse("portal:logo", kwargs={"slug": "acme"})).status_code == 404


@pytest.mark.parametrize("data, message", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a PNG"),
    (b"GIF89a" + b"\x00" * 10, "not a PNG"),
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (300 * 1024), "256 KB"),
])
def test_refused_files_change_nothing_and_say_why(client_as, admin, workspace, product, portal, data, message):
    response = _post(client_as(admin), workspace, product, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert Portal.objects.get(pk=portal.pk).logo is None


def test_too_large_dimensions_are_refused(admin, portal):
    with pytest.raises(services.ValidationError):
        services.portal_logo_set(user=admin, portal=portal, data=_image(size=(2001, 10)))
    assert Portal.objects.get(pk=portal.pk).logo is None


def test_editors_cannot_change_the_logo_outsiders_404(client_as, editor, outsider, workspace, product, portal):
    assert _post(client_as(editor), workspace, product, _image()).status_code == 403
    assert _post(client_as(outsider), workspace, product, _image()).status_code == 404
    assert Portal.objects.get(pk=portal.pk).logo is None


def test_closed_portal_serves_no_logo(client, admin, portal):
    services.portal_logo_set(user=admin, portal=portal, data=_image())
    Portal.objects.filter(pk=portal.pk).update(enabled=False)
    assert client.get(reverse("portal:logo", kwargs={"slug": "acme"})).status_code == 404
