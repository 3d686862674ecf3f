"""core.access: one pattern to fetch a resource for a user."""

import pytest
from django.http import Http404

from contacts.models import Contact
from core.access import ScopedQuerySet, get_for_user_or_404, scope_for_user
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


class _OnlyOdd(ScopedQuerySet):
    def visible_to(self, user):
        return self.filter(pk__in=[c for c in self.values_list("pk", flat=True) if c % 2])


def test_unscoped_models_are_shared_and_missing_rows_are_404(manager):
    contact = ContactFactory()
    assert get_for_user_or_404(Contact.objects.all(), user=manager, pk=contact.pk) == contact
    with pytest.raises(Http404):
        get_for_user_or_404(Contact.objects.all(), user=manager, pk=contact.pk + 1000)


def test_a_scoped_queryset_hides_what_the_user_may_not_see(manager):
    first, second = ContactFactory(), ContactFactory()
    odd, even = (first, second) if first.pk % 2 else (second, first)
    qs = _OnlyOdd(model=Contact)
    assert list(scope_for_user(qs, manager)) == [odd]
    assert get_for_user_or_404(qs, user=manager, pk=odd.pk) == odd
    with pytest.raises(Http404):
        get_for_user_or_404(qs, user=manager, pk=even.pk)
