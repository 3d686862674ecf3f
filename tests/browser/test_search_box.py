"""Issue 12, bug 9: the contact search's hint was cut off at a laptop's width."""

import pytest

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: The hint's width in the input's own font, against the room inside the input.
FITS = """() => {
  const box = document.querySelector("#q");
  const style = getComputedStyle(box);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = style.font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [ctx.measureText(box.placeholder).width, room];
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_the_search_hint_is_not_cut(page, live_server, login, width):
    UserFactory(username="ana", role="Sales")
    page.set_viewport_size({"width": width, "height": 900})
    login("ana")
    page.goto(f"{live_server.url}/contacts/")
    text, room = page.evaluate(FITS)
    if width == 1366:
        assert text <= room, (text, room)
    # On a phone the box takes the row it has and never widens the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
