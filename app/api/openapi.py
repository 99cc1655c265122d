"""The OpenAPI 3.1 document of API v1. Each API module adds its paths to PATHS."""
ERROR = {"$ref": "#/components/schemas/Error"}


# Every operation may answer with these, always as the Error body.
ERRORS = {"400": "bad request", "401": "no valid token", "403": "not allowed for the caller's role",
          "404": "not found, or not visible to the caller", "409": "conflict with the current state",
          "413": "request too large", "422": "invalid data, with field errors", "429": "too many requests"}


def op(summary: str, responses: dict | None = None, body: dict | None = None, params=(), query=(),
       form: dict | None = None) -> dict:
    """An operation: `params` are path parameters, `query` query parameters (from `query_param`),
    `body` a JSON request body and `form` the same as multipart/form-data. A response given
    with its own "content" keeps it (e.g. a file download)."""
    answers = {code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
               for code, text in ERRORS.items()}
    answers["200"] = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    for code, answer in (responses or {}).items():
        answers[code] = answer if "content" in answer else {
            **answer, "content": {"application/json": {"schema": ERROR if code >= "400" else {"type": "object"}}}}
    spec = {"summary": summary, "responses": answers}
    if body or form:
        content = {"application/json": {"schema": body}} if body else {}
        if form:
            content["multipart/form-data"] = {"schema": form}
        spec["requestBody"] = {"required": True, "content": content}
    if params or query:
        spec["parameters"] = [{"name": p, "in": "path", "required": True,
                               "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1} if p.endswith("_id") else
                               {"type": "string", "enum": ["suspend", "resume", "terminate", "retry"]}
                               if p == "action" else {"type": "string"}} for p in params] + list(query)
    return spec


def query_param(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


PATHS = {
    "/me": {"get": op("The authenticated user and roles")},
    "/enterprises": {"get": op("Enterprises the caller may see")},
    "/enterprises/{enterprise_id}": {"get": op("One enterprise", {"404": {"description": "not found or not visible"}},
                                               params=["enterprise_id"])},
    "/communities": {"get": op("Communities the caller may see")},
}


def build_spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Wuye API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}},
        },
    }
