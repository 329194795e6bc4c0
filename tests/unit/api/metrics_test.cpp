#include <doctest/doctest.h>

#include <sstream>

#include "coordinator/api/detail/metrics_text.hpp"
#include "fake_backend.hpp"
#include "fake_devices.hpp"

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

TEST_CASE("device metrics: known families with HELP/TYPE, zeros, labels; bad keys dropped") {
    const api::DeviceMetrics devices = {
        {"gaffer_mqtt_connected", 1},
        {"gaffer_mqtt_messages_refused_total{reason=no_route}", 3},
        {"gaffer_mqtt_messages_refused_total{reason=too_large}", 1},
        {"gaffer_devices", 7},
        {"gaffer_devices_shadow_requests_total{result=accepted}", 5},
        {"gaffer_mqtt_reconnects_total", 2},          // not in the catalogue: generic help
        {"gaffer_mqtt_routes", 4},
        {"gaffer_devices_flux", 9},                   // a gauge by its name
        {"gaffer_tasks", 99},                         // not a device family
        {"gaffer_mqtt_bad{reason=has space}", 1},     // bad label value
        {"gaffer_mqtt_bad2{reason=x", 1},             // unclosed
        {"gaffer_mqtt_Upper", 1},                     // bad family
        {"gaffer_mqtt_", 1},                          // no name after the prefix
    };
    const std::string text = api::detail::format_metrics(sample(), {}, &devices);
    CHECK(has_line(text, "# TYPE gaffer_mqtt_connected gauge"));
    CHECK(has_line(text, "gaffer_mqtt_connected 1"));
    CHECK(has_line(text, "# TYPE gaffer_mqtt_messages_received_total counter"));
    CHECK(has_line(text, "gaffer_mqtt_messages_received_total 0"));  // known, zero
    CHECK(has_line(text, "gaffer_mqtt_messages_routed_total 0"));
    CHECK(has_line(text, "gaffer_mqtt_outbox_queued 0"));
    CHECK(has_line(text, "gaffer_devices_connected 0"));
    CHECK(has_line(text, "# TYPE gaffer_mqtt_messages_refused_total counter"));
    CHECK(has_line(text, "# HELP gaffer_mqtt_messages_refused_total MQTT messages not delivered, by reason."));
    CHECK(has_line(text, "gaffer_mqtt_messages_refused_total{reason=\"no_route\"} 3"));
    CHECK(has_line(text, "gaffer_mqtt_messages_refused_total{reason=\"too_large\"} 1"));
    CHECK(has_line(text, "gaffer_devices 7"));
    CHECK(has_line(text, "# TYPE gaffer_devices gauge"));
    CHECK(has_line(text, "gaffer_devices_shadow_requests_total{result=\"accepted\"} 5"));
    CHECK(has_line(text, "# TYPE gaffer_mqtt_reconnects_total counter"));
    CHECK(has_line(text, "# HELP gaffer_mqtt_reconnects_total Device subsystem metric gaffer_mqtt_reconnects_total."));
    CHECK(has_line(text, "gaffer_mqtt_reconnects_total 2"));
    CHECK(has_line(text, "# TYPE gaffer_devices_flux gauge"));
    CHECK(has_line(text, "# HELP gaffer_mqtt_routes Message routes in the routing table."));
    CHECK(has_line(text, "# TYPE gaffer_mqtt_routes gauge"));
    CHECK(has_line(text, "gaffer_mqtt_routes 4"));
    CHECK(has_line(text, "gaffer_mqtt_connects_total 0"));
    CHECK_FALSE(has_line(text, "gaffer_tasks 99"));
    CHECK(text.find("gaffer_mqtt_bad") == std::string::npos);
    CHECK(text.find("Upper") == std::string::npos);
    CHECK(text.find("gaffer_mqtt_ ") == std::string::npos);
    // Each family is declared once.
    std::size_t declared = 0;
    for (std::size_t at = 0; (at = text.find("# TYPE gaffer_mqtt_messages_refused_total ", at)) != std::string::npos; ++at) {
        ++declared;
    }
    CHECK(declared == 1);
}

TEST_CASE("device metrics: none without a DeviceBackend; served by /metrics with one") {
    const std::string without = api::detail::format_metrics(sample(), {});
    CHECK(without.find("gaffer_mqtt_") == std::string::npos);
    CHECK(without.find("gaffer_devices") == std::string::npos);

    api::test::FakeBackend backend;
    api::test::FakeDevices devices;
    devices.metrics = {{"gaffer_devices_connected", 4}};
    api::Router router(backend, {}, &devices);
    http::Request metrics;
    metrics.method = "GET";
    metrics.path = "/metrics";
    std::optional<http::Response> r;
    router.handle(metrics, [&](http::Response x) { r = std::move(x); });
    REQUIRE(r);
    CHECK(has_line(r->body, "gaffer_devices_connected 4"));
    CHECK(has_line(r->body, "gaffer_mqtt_connected 0"));
}
