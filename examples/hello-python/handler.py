"""Example handler: greets the name in the event; {"fail": true} raises to show errors."""


def handle(event, context):
    event = event or {}
    if event.get("fail"):
        raise ValueError("asked to fail")
    print("invocation", context.aws_request_id, "for", event.get("name", "world"))
    return {"greeting": "hello, {}".format(event.get("name", "world")),
            "function": context.function_name}
