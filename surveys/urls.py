"""Survey URLs, one list per area (authoring, distribution, answering, results)."""
from surveys.views import answering, authoring, distribution, results, review

app_name = "surveys"

urlpatterns = [*authoring.urlpatterns, *distribution.urlpatterns, *answering.urlpatterns, *results.urlpatterns, *review.urlpatterns]
