#include <nlohmann/json.hpp>

#include "tasks/runtime/runtime.hpp"

namespace gaffer::runtime {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kInvocationPrefix = "/2018-06-01/runtime/invocation/";
constexpr std::string_view kNextPath = "/2018-06-01/runtime/invocation/next";
constexpr std::string_view kInitErrorPath = "/2018-06-01/runtime/init/error";
constexpr std::string_view kErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

http::Response json_response(const http::Request& request, int status, std::string body) {
    http::Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    r.keep_alive = request.keep_alive;
    return r;
}

http::Response accepted(const http::Request& request) {
    return json_response(request, 202, R"({"status":"OK"})");
}

http::Response error_response(const http::Request& request, int status, std::string_view message,
                              std::string_view type) {
    return json_response(request, status, error_document(message, type));
}

// The error type the task reported: the header AWS documents, else the document's
// errorType, else what AWS itself uses for an unclassified failure.
std::string error_type(const http::Request& request) {
    if (const std::string* h = http::find_header(request.headers, kErrorTypeHeader); h && !h->empty())
        return *h;
    Json doc = Json::parse(request.body, nullptr, false);
    if (doc.is_object()) {
        auto it = doc.find("errorType");
        if (it != doc.end() && it->is_string()) return it->get<std::string>();
    }
    return "Unhandled";
}

}  // namespace

std::string error_document(std::string_view message, std::string_view type) {
    return Json{{"errorMessage", message}, {"errorType", type}}.dump(
        -1, ' ', false, Json::error_handler_t::replace);
}

LambdaApi::Outcome LambdaApi::handle(const http::Request& request) {
    Outcome out;
    const std::string_view path = request.path;
    if (path == kNextPath && request.method == "GET") {
        if (!initialized_) {
            initialized_ = true;
            out.frame = Frame{FrameType::ready, "{}", {}};
        }
        return out;  // parked until start()
    }
    if (path == kInitErrorPath && request.method == "POST") {
        if (initialized_) {
            out.response = error_response(request, 403,
                                          "init/error is only valid before the first invocation/next",
                                          "InvalidStateTransition");
            return out;
        }
        std::string type = error_type(request);
        out.response = accepted(request);
        out.frame = Frame{FrameType::init_error,
                          Json{{"detail", type}}.dump(-1, ' ', false, Json::error_handler_t::replace),
                          request.body.substr(0, kMaxResponseBytes)};
        return out;
    }
    if (request.method == "POST" && path.substr(0, kInvocationPrefix.size()) == kInvocationPrefix) {
        std::string_view rest = path.substr(kInvocationPrefix.size());
        auto slash = rest.find('/');
        if (slash != std::string_view::npos && slash > 0) {
            std::string_view id = rest.substr(0, slash);
            std::string_view verb = rest.substr(slash + 1);
            if (verb == "response") return finish(request, id, false);
            if (verb == "error") return finish(request, id, true);
        }
    }
    out.response = error_response(request, 404,
                                  "unknown Runtime API route: " + request.method + " " + request.path,
                                  "InvalidRequest");
    return out;
}

LambdaApi::Outcome LambdaApi::finish(const http::Request& request, std::string_view id,
                                     bool is_error) {
    Outcome out;
    if (!in_flight_ || *in_flight_ != id) {
        out.response = error_response(request, 400,
                                      "invalid request ID: " + std::string(id) +
                                          " is not the invocation in flight",
                                      "InvalidRequestID");
        return out;
    }
    Json header{{"id", *in_flight_}};
    std::string payload;
    if (request.body.size() > kMaxResponseBytes) {
        const std::string limit = std::to_string(kMaxResponseBytes);
        out.response = error_response(
            request, 413, "Exceeded maximum allowed payload size (" + limit + " bytes).",
            "RequestEntityTooLarge");
        header["status"] = kStatusFunctionError;
        header["detail"] = "Function.ResponseSizeTooLarge";
        payload = error_document("Response payload size (" + std::to_string(request.body.size()) +
                                     " bytes) exceeded maximum allowed payload size (" + limit +
                                     " bytes).",
                                 "Function.ResponseSizeTooLarge");
    } else if (is_error) {
        out.response = accepted(request);
        header["status"] = kStatusFunctionError;
        header["detail"] = error_type(request);
        payload = request.body;
    } else {
        out.response = accepted(request);
        header["status"] = kStatusOk;
        payload = request.body;
    }
    in_flight_.reset();
    out.frame = Frame{FrameType::result, header.dump(-1, ' ', false, Json::error_handler_t::replace),
                      std::move(payload)};
    return out;
}

http::Response LambdaApi::start(const Invocation& invocation) {
    in_flight_ = invocation.id;
    http::Response r;
    r.status = 200;
    r.headers = {
        {"Content-Type", "application/json"},
        {"Lambda-Runtime-Aws-Request-Id", invocation.id},
        {"Lambda-Runtime-Deadline-Ms", std::to_string(invocation.deadline_epoch_ms)},
        {"Lambda-Runtime-Invoked-Function-Arn", function_arn_},
        {"Lambda-Runtime-Trace-Id", invocation.trace_id},
    };
    r.body = invocation.event;
    return r;
}

}  // namespace gaffer::runtime
