"""The one pagination of the API's lists (api.md: ``?page=``; ``count``, ``next``,
``previous``, ``results``)."""
from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, with the page parameter described as it really is read: a page past
    the last (or 0, or not a number) answers 404 "Invalid page."."""

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (f"Page number, from 1 ({self.page_size or 'all'} items a page; "
                                            f"'{self.last_page_strings[0]}' also reads the last); "
                                            "past the last page: 404.")
        return parameters
