from django.urls import path

from . import views

app_name = "assessment"

round_ = "<uuid:public_id>/"
item = f"{round_}score/<slug:part_code>/<slug:item_code>/"

urlpatterns = [
    path("", views.RoundListView.as_view(), name="round-list"),
    path("new/", views.RoundCreateView.as_view(), name="round-create"),
    path("compare/", views.RoundCompareView.as_view(), name="round-compare"),
    path(round_, views.RoundDetailView.as_view(), name="round-detail"),
    path(f"{round_}edit/", views.RoundEditView.as_view(), name="round-edit"),
    path(f"{round_}submit/", views.RoundSubmitView.as_view(), name="round-submit"),
    path(f"{round_}reopen/", views.RoundReopenView.as_view(), name="round-reopen"),
    path(f"{round_}lock/", views.RoundLockView.as_view(), name="round-lock"),
    path(f"{round_}results/", views.RoundResultsView.as_view(), name="round-results"),
    path(f"{round_}score/<slug:part_code>/", views.RoundScoreView.as_view(), name="round-score"),
    path(item, views.ItemScoreSaveView.as_view(), name="round-score-item"),
    path(f"{item}ratings/", views.RatingSaveView.as_view(), name="round-rating-save"),
    path(f"{item}ratings/<uuid:rating_id>/remove/", views.RatingRemoveView.as_view(), name="round-rating-remove"),
]
