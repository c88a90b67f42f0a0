from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import AgeBand, Site


class PopulationSerializer(serializers.Serializer[dict[str, Any]]):
    age_band = serializers.ChoiceField(choices=AgeBand.choices, help_text="Age band in years, for example 5-10.")
    people = serializers.IntegerField(help_text="Children and young people living in the site in this band.")


class SiteSerializer(serializers.ModelSerializer[Site]):
    population = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = ["name", "slug", "region", "population"]

    @extend_schema_field(PopulationSerializer(many=True))
    def get_population(self, site: Site) -> list[dict[str, Any]]:
        # In survey order: the stored codes sort as text ("11-16" before "5-10").
        people = {row.age_band: row.people for row in site.population.all()}
        return [{"age_band": band.value, "people": people[band.value]} for band in AgeBand if band.value in people]
