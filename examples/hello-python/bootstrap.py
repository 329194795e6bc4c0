#!/usr/bin/python3
"""A Lambda runtime loop for Python handlers using only the standard library (urllib).

It speaks the Runtime API (2018-06-01) that AWS Lambda and Gaffer both serve:
GET .../invocation/next, then POST .../invocation/<id>/response or .../error; an import
failure is reported with POST .../init/error.
"""
import importlib
import json
import os
import sys
import traceback
import urllib.request

API = "http://{}/2018-06-01/runtime".format(os.environ["AWS_LAMBDA_RUNTIME_API"])


def post(path, body, headers=None):
    request = urllib.request.Request(API + path, data=body, method="POST", headers=headers or {})
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        response.read()


def error_document(exc):
    return json.dumps({
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, exc.__traceback__),
    }).encode()


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")

    def get_remaining_time_in_millis(self):
        import time
        return max(0, self.deadline_ms - int(time.time() * 1000))


def load_handler():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/task"))
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


def main():
    # stdout is a pipe to the task log: flush every line, as AWS's runtimes do.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        handler = load_handler()
    except Exception as exc:  # report why the function cannot start, then stop
        post("/init/error", error_document(exc), {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            context = Context(response.headers)
            body = response.read()
        try:
            event = json.loads(body) if body else None
            result = handler(event, context)
            post("/invocation/{}/response".format(context.aws_request_id), json.dumps(result).encode())
        except Exception as exc:
            post("/invocation/{}/error".format(context.aws_request_id), error_document(exc),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})


if __name__ == "__main__":
    main()
