from __future__ import annotations

import pytest

from inbox.filters import FilterContext, FilterError, compile_filter
from inbox.models import Conversation
from signals.models import ConversationFlag
from tests.factories import OrganizationFactory, make_channel, make_conversation

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_keyword_flag_condition_selects_flagged_conversations():
    channel = make_channel(OrganizationFactory())
    flagged = make_conversation(channel, customer_id="a")
    make_conversation(channel, customer_id="b")
    ConversationFlag.objects.create(conversation=flagged, flag="payment")

    context = FilterContext(user=None, organization_id=channel.organization_id)
    query = compile_filter({"keyword_flag": ["payment"]}, context=context)
    assert list(Conversation.objects.filter(query).values_list("pk", flat=True)) == [flagged.pk]
    with pytest.raises(FilterError, match="flag name"):
        compile_filter({"keyword_flag": [""]}, context=context)
