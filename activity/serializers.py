from rest_framework import serializers

from .kinds import KINDS
from .selectors import HOW


class ChangeSerializer(serializers.Serializer[object]):
    field = serializers.CharField(help_text="The field, as the pages name it.")
    before = serializers.CharField(
        allow_null=True, help_text="Its value before the change, in words; null when the record was just created."
    )
    after = serializers.CharField(
        allow_null=True, help_text="Its value after the change, in words; null when the record was deleted."
    )


class EntrySerializer(serializers.Serializer[object]):
    when = serializers.DateTimeField()
    who = serializers.CharField(
        allow_null=True, help_text="The name of the person who made the change; null when it was not recorded."
    )
    via = serializers.ChoiceField(
        source="source",
        choices=[(code, label) for code, label in HOW.items()],
        allow_blank=True,
        help_text="How the change was made: page (the website), api, import, demo (the demo loader) or "
        "system (THRIVE Mapper itself); empty when it was not recorded.",
    )
    kind = serializers.ChoiceField(choices=[(kind.key, kind.plural) for kind in KINDS])
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    headline = serializers.CharField(help_text='What happened, in words: "Round submitted", "Rating deleted".')
    subject = serializers.CharField(help_text="The record changed.")
    url = serializers.CharField(allow_null=True, help_text="The record's page on the website, while it exists.")
    changes = ChangeSerializer(many=True)
    earlier_unrecorded = serializers.BooleanField(
        help_text="True for the first recorded change of a record made before history was kept: `changes` "
        "then shows how the record stood, and what it was before is unknown."
    )
