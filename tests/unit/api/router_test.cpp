#include <doctest/doctest.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "fake_backend.hpp"
#include "router_calls.hpp"

using namespace gaffer;
using api::test::FakeBackend;
using api::test::body_json;
using api::test::call;
using api::test::make_request;
using nlohmann::json;

namespace {

std::string header(const http::Response& r, std::string_view name) {
    const std::string* v = http::find_header(r.headers, name);
    return v ? *v : std::string("<absent>");
}

const char* kManifest = R"({"name": "hello", "version": "2"})";

}  // namespace

TEST_CASE("status") {
    FakeBackend backend;
    api::Router router(backend);
    auto r = call(router, "GET", "/v1/status");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(header(*r, "content-type") == "application/json");
    auto j = body_json(*r);
    CHECK(j["version"] == "0.1.0-test");
    CHECK(j["uptime_seconds"] == 12.5);
    CHECK(j["shutting_down"] == false);
}

TEST_CASE("tasks: create 201, replace 200, list, show, remove, then 404") {
    FakeBackend backend;
    api::Router router(backend);
    auto created = call(router, "POST", "/v1/tasks", kManifest);
    REQUIRE(created);
    CHECK(created->status == 201);
    CHECK(body_json(*created)["name"] == "hello");
    CHECK(body_json(*created)["manifest"]["version"] == "2");
    auto replaced = call(router, "POST", "/v1/tasks", kManifest);
    CHECK(replaced->status == 200);

    auto list = call(router, "GET", "/v1/tasks");
    REQUIRE(list->status == 200);
    auto tasks = body_json(*list)["tasks"];
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0]["name"] == "hello");
    CHECK_FALSE(tasks[0].contains("manifest"));

    auto show = call(router, "GET", "/v1/tasks/hello");
    CHECK(show->status == 200);
    CHECK(body_json(*show)["state"] == "ready");

    auto removed = call(router, "DELETE", "/v1/tasks/hello");
    CHECK(removed->status == 200);
    CHECK(body_json(*removed)["removed"] == true);
    auto gone = call(router, "GET", "/v1/tasks/hello");
    CHECK(gone->status == 404);
    CHECK(body_json(*gone)["error"] == "not_found");
    CHECK(body_json(*gone)["message"] == "no task hello");
    CHECK(call(router, "DELETE", "/v1/tasks/hello")->status == 404);
}

TEST_CASE("a manifest that is not JSON is a 400 saying where") {
    FakeBackend backend;
    api::Router router(backend);
    auto r = call(router, "POST", "/v1/tasks", "{\"name\": ");
    REQUIRE(r);
    CHECK(r->status == 400);
    auto j = body_json(*r);
    CHECK(j["error"] == "invalid");
    const std::string message = j["message"];
    CHECK(message.find("manifest is not JSON") == 0);
    CHECK(message.find("line 1") != std::string::npos);
    CHECK(backend.tasks.empty());
}

TEST_CASE("a manifest the backend rejects keeps the backend's message") {
    FakeBackend backend;
    api::Router router(backend);
    auto r = call(router, "POST", "/v1/tasks", "{\"version\": \"1\"}");
    CHECK(r->status == 400);
    CHECK(body_json(*r)["message"] == "name: missing");
}

TEST_CASE("bad task names are 400, unknown routes 404, wrong methods 405 with Allow") {
    FakeBackend backend;
    api::Router router(backend);
    CHECK(call(router, "GET", "/v1/tasks/Bad%20Name")->status == 400);
    CHECK(call(router, "GET", "/v1/nothing")->status == 404);
    CHECK(call(router, "GET", "/")->status == 404);
    CHECK(call(router, "GET", "/v2/status")->status == 404);
    CHECK(call(router, "GET", "/v1/tasks/a/b/c")->status == 404);
    auto r = call(router, "PUT", "/v1/tasks");
    CHECK(r->status == 405);
    CHECK(header(*r, "allow") == "GET, POST");
    CHECK(call(router, "GET", "/v1/tasks/x/invoke")->status == 405);
    CHECK(header(*call(router, "POST", "/v1/status"), "Allow") == "GET");
    CHECK(header(*call(router, "POST", "/v1/tasks/x"), "Allow") == "GET, DELETE");
    CHECK(call(router, "GET", "/v1/tasks/")->status == 200);  // trailing slash tolerated
}

TEST_CASE("sync invoke: ok answers 200 with the task's response and status header") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    api::Router router(backend);
    auto r = call(router, "POST", "/v1/tasks/hello/invoke", "{\"n\": 1}");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "{\"answer\":42}");
    CHECK(header(*r, "X-Gaffer-Status") == "ok");
    CHECK(header(*r, "X-Gaffer-Invocation-Id") == "inv-1");
    REQUIRE(backend.invoked_payloads.size() == 1);
    CHECK(backend.invoked_payloads[0] == "{\"n\": 1}");
}

TEST_CASE("sync invoke: an empty event is {}") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    api::Router router(backend);
    CHECK(call(router, "POST", "/v1/tasks/hello/invoke")->status == 200);
    CHECK(backend.invoked_payloads.at(0) == "{}");
}

TEST_CASE("sync invoke: a task-level failure is 200 with X-Gaffer-Status and an error document") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    backend.next_outcome = {api::InvocationStatus::function_error, "{\"errorMessage\":\"boom\"}",
                            "handler raised"};
    api::Router router(backend);
    auto r = call(router, "POST", "/v1/tasks/hello/invoke", "{}");
    CHECK(r->status == 200);
    CHECK(header(*r, "X-Gaffer-Status") == "function_error");
    auto j = body_json(*r);
    CHECK(j["status"] == "function_error");
    CHECK(j["detail"] == "handler raised");
    CHECK(j["error"] == "{\"errorMessage\":\"boom\"}");
}

TEST_CASE("sync invoke answers when the outcome arrives later, even after the router is gone") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    backend.answer_sync_at_once = false;
    std::optional<http::Response> answer;
    {
        api::Router router(backend);
        router.handle(make_request("POST", "/v1/tasks/hello/invoke", "{}"),
                      [&](http::Response r) { answer = std::move(r); });
        CHECK_FALSE(answer);
        REQUIRE(backend.held.size() == 1);
    }
    backend.held[0].second({api::InvocationStatus::timeout, "", "ran past 3s"});
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(header(*answer, "X-Gaffer-Status") == "timeout");
    CHECK(header(*answer, "X-Gaffer-Invocation-Id") == "inv-1");
    CHECK(body_json(*answer)["detail"] == "ran past 3s");
}

TEST_CASE("async invoke is 202 with the id") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    api::Router router(backend);
    for (const char* target : {"/v1/tasks/hello/invoke?async=true", "/v1/tasks/hello/invoke?async",
                               "/v1/tasks/hello/invoke?x=1&async=1"}) {
        CAPTURE(target);
        auto r = call(router, "POST", target, "{}");
        REQUIRE(r);
        CHECK(r->status == 202);
        CHECK(body_json(*r)["id"].get<std::string>().rfind("inv-", 0) == 0);
    }
    CHECK(call(router, "POST", "/v1/tasks/hello/invoke?async=false", "{}")->status == 200);
    CHECK(call(router, "POST", "/v1/tasks/hello/invoke?async=maybe", "{}")->status == 400);
}

TEST_CASE("invoke API-level errors map to HTTP statuses") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    api::Router router(backend);
    CHECK(call(router, "POST", "/v1/tasks/nope/invoke", "{}")->status == 404);
    CHECK(call(router, "POST", "/v1/tasks/hello/invoke", "{not json")->status == 400);
    const std::pair<base::Errc, int> cases[] = {
        {base::Errc::busy, 429},        {base::Errc::unavailable, 503}, {base::Errc::invalid, 400},
        {base::Errc::denied, 403},      {base::Errc::timeout, 504},     {base::Errc::io, 500},
        {base::Errc::retry, 500},       {base::Errc::conflict, 409},
    };
    for (const auto& [code, status] : cases) {
        backend.invoke_error = base::Error{code, "because"};
        auto r = call(router, "POST", "/v1/tasks/hello/invoke", "{}");
        REQUIRE(r);
        CHECK(r->status == status);
        CHECK(body_json(*r)["error"] == std::string(base::errc_name(code)));
        CHECK(body_json(*r)["message"] == "because");
    }
}

TEST_CASE("invocations: pending and finished views, bad ids, unknown ids") {
    FakeBackend backend;
    backend.invocations["abc-1"] = {"abc-1", "hello", false, 1000, 0, {}};
    backend.invocations["abc-2"] = {"abc-2", "hello", true, 1000, 2500,
                                    {api::InvocationStatus::crashed, "", "signal 11"}};
    api::Router router(backend);
    auto pending = body_json(*call(router, "GET", "/v1/invocations/abc-1"));
    CHECK(pending["state"] == "pending");
    CHECK_FALSE(pending.contains("status"));
    auto finished = body_json(*call(router, "GET", "/v1/invocations/abc-2"));
    CHECK(finished["state"] == "finished");
    CHECK(finished["status"] == "crashed");
    CHECK(finished["detail"] == "signal 11");
    CHECK(finished["finished_at_ms"] == 2500);
    CHECK(call(router, "GET", "/v1/invocations/zzz")->status == 404);
    CHECK(call(router, "GET", "/v1/invocations/a%20b")->status == 400);
}

TEST_CASE("logs: last N lines, default and bounds") {
    FakeBackend backend;
    backend.put_task(kManifest).value();
    std::string log;
    for (int i = 1; i <= 150; ++i) log += "line " + std::to_string(i) + "\n";
    backend.logs["hello"] = log;
    api::Router router(backend);
    auto r = call(router, "GET", "/v1/tasks/hello/logs?tail=2");
    REQUIRE(r->status == 200);
    CHECK(r->body == "line 149\nline 150\n");
    CHECK(header(*r, "content-type").rfind("text/plain", 0) == 0);
    CHECK(backend.log_tail_requests.back() == (1u << 20));
    auto all = call(router, "GET", "/v1/tasks/hello/logs");
    CHECK(all->body.rfind("line 51\n", 0) == 0);  // default 100 lines
    CHECK(call(router, "GET", "/v1/tasks/hello/logs?tail=0")->body.empty());
    CHECK(call(router, "GET", "/v1/tasks/hello/logs?tail=1000000")->status == 400);
    CHECK(call(router, "GET", "/v1/tasks/hello/logs?tail=-1")->status == 400);
    CHECK(call(router, "GET", "/v1/tasks/other/logs")->status == 404);
    backend.logs["hello"] = "no newline at end";
    CHECK(call(router, "GET", "/v1/tasks/hello/logs?tail=5")->body == "no newline at end");
}

TEST_CASE("environments") {
    FakeBackend backend;
    backend.environments = {{7, "hello", "idle", 3.5, 12}};
    api::Router router(backend);
    auto j = body_json(*call(router, "GET", "/v1/environments"));
    REQUIRE(j["environments"].size() == 1);
    CHECK(j["environments"][0]["id"] == 7);
    CHECK(j["environments"][0]["invocations"] == 12);
}

TEST_CASE("task output that is not UTF-8 does not break JSON encoding") {
    FakeBackend backend;
    backend.invocations["x"] = {"x", "hello", true, 1, 2,
                                {api::InvocationStatus::ok, std::string("\xff\xfe ok", 5), ""}};
    api::Router router(backend);
    auto r = call(router, "GET", "/v1/invocations/x");
    REQUIRE(r->status == 200);
    CHECK(body_json(*r)["response"] == "\xEF\xBF\xBD\xEF\xBF\xBD ok");
}

TEST_CASE("responses are counted by status code") {
    FakeBackend backend;
    api::Router router(backend);
    call(router, "GET", "/v1/status");
    call(router, "GET", "/v1/status");
    call(router, "GET", "/nope");
    router.count_response(403);
    auto counts = router.response_counts();
    CHECK(counts[200] == 2);
    CHECK(counts[404] == 1);
    CHECK(counts[403] == 1);
}
