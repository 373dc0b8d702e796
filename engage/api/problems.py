"""The API's refusals: raised anywhere in a request, answered as application/problem+json
by engage.errors.problem_response."""

from engage.errors import problem_response


class Problem(Exception):
    """An API error: its status, a detail for the client, and the field at fault if any."""

    def __init__(
        self, status: int, detail, *, field: str | None = None, headers: dict | None = None
    ):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.field, self.headers = field, headers or {}

    def response(self):
        invalid = None
        if self.field is not None:
            invalid = [{"name": self.field, "reason": str(self.detail)}]
        return problem_response(
            self.status, self.detail, invalid_params=invalid, headers=self.headers
        )


def bad_parameter(field: str, detail, status: int = 400) -> Problem:
    return Problem(status, detail, field=field)
