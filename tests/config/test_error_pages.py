"""The error pages users meet, in their language and in Momento's layout. Without
templates/404.html and 500.html production answered Django's bare English "Not Found"
/ "Server Error (500)", unstyled, in the Spanish UI."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_page_or_row_says_so_in_spanish_in_the_layout(client, sales):
    client.force_login(sales)
    for path in ("/no-such-page/", "/contacts/999999/", "/support/tickets/999999/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
        html = response.content.decode()
        assert response.status_code == 404, path
        assert '<html lang="es">' in html
        assert "<h1>Página no encontrada</h1>" in html
        assert 'class="mainnav"' in html and "css/momento.css" in html
        assert "Not Found" not in html


def test_anonymous_visitors_get_the_same_404(client):
    html = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>Página no encontrada</h1>" in html


def test_the_server_error_page_is_translated_and_needs_no_request_context():
    with translation.override("es"):
        response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="es">' in html and "<h1>Algo ha fallado</h1>" in html
    assert "Server Error" not in html
