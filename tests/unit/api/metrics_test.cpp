#include <doctest/doctest.h>

#include <sstream>

#include "coordinator/api/detail/metrics_text.hpp"
#include "fake_backend.hpp"

using namespace gaffer;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l == line) return true;
    }
    return false;
}

api::MetricsSnapshot sample() {
    api::MetricsSnapshot m;
    m.invocations_by_status = {{"ok", 5}, {"timeout", 1}};
    m.bucket_bounds = {0.005, 0.1, 1};
    m.bucket_counts = {2, 3, 0, 1};  // one above every bound
    m.duration_sum = 7.25;
    m.duration_count = 6;
    m.queue_rejections = 4;
    m.environments = 2;
    m.environments_started = 9;
    m.tasks = 3;
    return m;
}

}  // namespace

TEST_CASE("the exposition lists every family with HELP and TYPE") {
    const std::string text = api::detail::format_metrics(sample(), {{200, 10}, {404, 2}});
    CHECK(has_line(text, "# TYPE gaffer_invocations_total counter"));
    CHECK(has_line(text, "gaffer_invocations_total{status=\"ok\"} 5"));
    CHECK(has_line(text, "gaffer_invocations_total{status=\"timeout\"} 1"));
    CHECK(has_line(text, "gaffer_invocations_total{status=\"crashed\"} 0"));  // known, zero
    CHECK(has_line(text, "# TYPE gaffer_invocation_duration_seconds histogram"));
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_bucket{le=\"0.005\"} 2"));
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_bucket{le=\"0.1\"} 5"));  // cumulative
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_bucket{le=\"1\"} 5"));
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_bucket{le=\"+Inf\"} 6"));
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_sum 7.25"));
    CHECK(has_line(text, "gaffer_invocation_duration_seconds_count 6"));
    CHECK(has_line(text, "# TYPE gaffer_queue_rejections_total counter"));
    CHECK(has_line(text, "gaffer_queue_rejections_total 4"));
    CHECK(has_line(text, "# TYPE gaffer_environments gauge"));
    CHECK(has_line(text, "gaffer_environments 2"));
    CHECK(has_line(text, "gaffer_environments_started_total 9"));
    CHECK(has_line(text, "# TYPE gaffer_tasks gauge"));
    CHECK(has_line(text, "gaffer_tasks 3"));
    CHECK(has_line(text, "gaffer_requests_total{code=\"200\"} 10"));
    CHECK(has_line(text, "gaffer_requests_total{code=\"404\"} 2"));
    CHECK(text.back() == '\n');
}

TEST_CASE("every sample line is name{labels} value, and label values are escaped") {
    api::MetricsSnapshot m;
    m.invocations_by_status = {{"we\"ird\\\nname", 1}};
    const std::string text = api::detail::format_metrics(m, {});
    CHECK(has_line(text, "gaffer_invocations_total{status=\"we\\\"ird\\\\\\nname\"} 1"));
    std::istringstream in(text);
    int samples = 0;
    for (std::string l; std::getline(in, l);) {
        if (l.rfind("# HELP ", 0) == 0 || l.rfind("# TYPE ", 0) == 0) continue;
        ++samples;
        CHECK(l.rfind("gaffer_", 0) == 0);
        CHECK(l.find(' ') != std::string::npos);
    }
    CHECK(samples > 10);
}

TEST_CASE("GET /metrics serves the exposition with its content type and request counts") {
    api::test::FakeBackend backend;
    backend.metrics_snapshot = sample();
    api::Router router(backend);
    http::Request status;
    status.method = "GET";
    status.path = "/v1/status";
    router.handle(status, [](http::Response) {});
    http::Request metrics;
    metrics.method = "GET";
    metrics.path = "/metrics";
    std::optional<http::Response> r;
    router.handle(metrics, [&](http::Response x) { r = std::move(x); });
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(*http::find_header(r->headers, "content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(has_line(r->body, "gaffer_requests_total{code=\"200\"} 1"));
    CHECK(has_line(r->body, "gaffer_tasks 3"));
}
