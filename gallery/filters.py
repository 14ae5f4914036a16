from datetime import datetime, time, timedelta

import django_filters
from django.utils import timezone

from gallery.models import Asset
from gallery.pagination import sort_of


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


class AssetFilter(django_filters.FilterSet):
    """The gallery's query-string filters. Dates are whole UTC days and compare as ranges so
    the (owner, created_at) index still applies."""

    type = django_filters.ChoiceFilter(choices=[*Asset.Type.choices, ("all", "All")], method="filter_type")
    model = django_filters.CharFilter(field_name="model")
    style = django_filters.CharFilter(field_name="style")
    format = django_filters.CharFilter(method="filter_format")
    favorites = django_filters.BooleanFilter(field_name="is_favorited", widget=django_filters.widgets.BooleanWidget)
    public = django_filters.BooleanFilter(field_name="is_public", widget=django_filters.widgets.BooleanWidget)
    nsfw = django_filters.BooleanFilter(field_name="is_nsfw", widget=django_filters.widgets.BooleanWidget)
    collection = django_filters.UUIDFilter(field_name="collection_id")
    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")
    q = django_filters.CharFilter(field_name="prompt", lookup_expr="icontains")
    sort = django_filters.ChoiceFilter(choices=[("newest", "Newest"), ("oldest", "Oldest")], method="filter_sort")

    class Meta:
        model = Asset
        fields = []

    def filter_type(self, queryset, name, value):
        return queryset if value == "all" else queryset.filter(type=value)

    def filter_format(self, queryset, name, value):
        value = value.lower()
        return queryset.filter(format__in=["jpeg", "jpg"] if value in ("jpeg", "jpg") else [value])

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_sort(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        if self.request is not None and sort_of(self.request) == "oldest":
            return queryset.order_by("created_at", "id")
        return queryset.order_by("-created_at", "-id")
