"""The runtime's one error shape: `{"error": message, "code": code, "details": [...]}`.

The SDK turns `error` into the message of the `Error` it throws, so messages are
written for the person (or model) reading them in a page.
"""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: list[str] | None = None,
                 headers: dict[str, str] | None = None):
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details or [], headers
        super().__init__(message)

    def response(self) -> JSONResponse:
        body = {"error": self.message, "code": self.code}
        if self.details:
            body["details"] = self.details
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def bad_request(message: str, details: list[str] | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)
