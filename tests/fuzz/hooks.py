"""Schemathesis hooks for tests/fuzz/api_fuzz.py (issue 23 §1, docs/reliability.md).

`map_case`: an authenticated pass sends its caller's credentials only.
`filter_case`: a pass never disables, deletes or logs out its own caller.
`jsonapi_document`: every response with the {json:api} media type and a body is a valid JSON:API 1.0
response document (the official schema in tests/api/jsonapi-schema), and every response that is
not a success carries a JSON body, as docs/routes.md promises.
"""
import json
import os
import re

import jsonschema
import schemathesis

MEDIA_TYPE = "application/vnd.api+json"
_SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "api", "jsonapi-schema", "schema.json")


def _any_name_pattern(node):
    """The official schema allows any member name with the pattern "" (matches everything), which
    Python's jsonschema skips as if there were no pattern (`if patterns and ...`, 4.26); "^" says
    the same and is not empty."""
    if isinstance(node, dict):
        return {key: ({"^" if name == "" else name: _any_name_pattern(value) for name, value in sub.items()}
                      if key == "patternProperties" else _any_name_pattern(sub)) for key, sub in node.items()}
    if isinstance(node, list):
        return [_any_name_pattern(item) for item in node]
    return node


with open(_SCHEMA_PATH) as schema_file:
    _VALIDATOR = jsonschema.Draft202012Validator(_any_name_pattern(json.load(schema_file)))


CREDENTIAL_HEADERS = {"authorization", "x-authify-access", "x-authify-secret", "cookie"}


@schemathesis.hook
def map_case(ctx, case):
    """In a pass with a caller (AUTHIFY_FUZZ_CALLER set), the generated values of the credential
    headers are dropped, so the caller's real ones (sent with -H) are what the server judges: a
    random X-Authify-Access next to the admin's token would make nearly every case a 401. The pass
    without a caller keeps them: random credentials are worth fuzzing too."""
    if os.environ.get("AUTHIFY_FUZZ_CALLER") and case.headers:
        for name in [name for name in case.headers if name.lower() in CREDENTIAL_HEADERS]:
            del case.headers[name]
    return case


# Operations that take a user's account or sessions away: a pass must not do them to its own caller,
# or every case after that one is a 401 and tests nothing.
_SELF_ENDING = {("PATCH", "/users/{id}"), ("DELETE", "/users/{id}"), ("DELETE", "/users/{id}/sessions")}


@schemathesis.hook
def filter_case(ctx, case):
    own_id = os.environ.get("AUTHIFY_FUZZ_CALLER_ID")
    if not own_id or (case.method.upper(), case.operation.path) not in _SELF_ENDING:
        return True
    value = str((case.path_parameters or {}).get("id", "")).strip()
    return re.fullmatch(r"\+?0*" + re.escape(own_id), value) is None


@schemathesis.check
def jsonapi_document(ctx, response, case):
    content_type = response.headers.get("content-type", [""])
    content_type = (content_type[0] if isinstance(content_type, list) else content_type).split(";")[0].strip()
    if response.status_code >= 400 and not response.content:
        raise AssertionError(f"{response.status_code} with an empty body: every error must say what went wrong")
    if content_type != MEDIA_TYPE or not response.content:
        return None
    document = json.loads(response.content)
    errors = sorted(f"{error.message} at /{'/'.join(map(str, error.absolute_path))}"
                    for error in _VALIDATOR.iter_errors(document))
    if errors:
        raise AssertionError("not a valid JSON:API document: " + "; ".join(errors[:5]))
    return None
