"""The OpenAPI 3.1 document of API v1. Each API module adds its paths to PATHS, with the
schema of its success answer (`ok=`, or `document_responses` for an operation declared
elsewhere): fields, types and which are always there, checked against the live app by
tests/security/test_api_contract.py."""
ERROR = {"$ref": "#/components/schemas/Error"}


# Every operation may answer with these, always as the Error body.
ERRORS = {"400": "bad request", "401": "no valid token", "403": "not allowed for the caller's role",
          "404": "not found, or not visible to the caller", "409": "conflict with the current state",
          "413": "request too large", "422": "invalid data, with field errors", "429": "too many requests"}

# Shorthands for response schemas.
STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}  # amounts and points, never floats


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def record(properties: dict, optional=()) -> dict:
    """An object whose properties are all always present, except those named in `optional`."""
    return {"type": "object", "required": [name for name in properties if name not in optional],
            "properties": properties}


def page_of(item: dict, **more) -> dict:
    """One page of a list (app.api.paging), with `more` properties beside it."""
    return record({**more, "items": array(item), "total": INTEGER, "page": INTEGER, "per_page": INTEGER,
                   "pages": INTEGER})


def list_of(item: dict) -> dict:
    """A list answer: its items, and its page and total where the endpoint pages."""
    return record({"items": array(item), "total": INTEGER, "page": INTEGER, "per_page": INTEGER, "pages": INTEGER},
                  optional=("total", "page", "per_page", "pages"))


def op(summary: str, responses: dict | None = None, body: dict | None = None, params=(), query=(),
       form: dict | None = None, ok: dict | None = None) -> dict:
    """An operation: `params` are path parameters, `query` the others (from `query_param`, or a header),
    `body` a JSON request body and `form` the same as multipart/form-data, `ok` the schema
    of the success answer (200, or the 2xx given in `responses`). A response given with its
    own "content" keeps it (e.g. a file download)."""
    answers = {code: {"description": text, "content": {"application/json": {"schema": ERROR}}}
               for code, text in ERRORS.items()}
    success = next((code for code in sorted(responses or {}) if code.startswith("2")), "200")
    answers["200"] = {"description": "OK", "content": {"application/json": {"schema": ok or {"type": "object"}}}}
    for code, answer in (responses or {}).items():
        answers[code] = answer if "content" in answer else {
            **answer, "content": {"application/json": {"schema": ERROR if code >= "400" else
                                                       (ok if code == success and ok else {"type": "object"})}}}
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


def document_responses(schemas: dict) -> None:
    """Set the success schemas of operations already in PATHS: {(path, method): schema},
    or {(path, method, status): schema} for a success other than 200."""
    for key, schema in schemas.items():
        path, method, *status = key
        answers = PATHS[path][method]["responses"]
        for code in status or [c for c in answers if c.startswith("2")]:
            answers[code] = {**answers[code], "content": {"application/json": {"schema": schema}}}


ENTERPRISE = record({"id": INTEGER, "name": STRING, "uscc": STRING, "filing_status": STRING,
                     "under_supervision": BOOLEAN, "risk_status": STRING})
COMMUNITY = record({"id": INTEGER, "name": STRING, "street_office": STRING, "enterprise_id": nullable(INTEGER),
                    "households": INTEGER, "annual_receivable_fee": DECIMAL})

PATHS: dict = {}


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
