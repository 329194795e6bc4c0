#include <http_parser.h>

#include "coordinator/http/detail/message_parser.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::http {

struct RequestParser::Impl {
    explicit Impl(Limits limits) : core(HTTP_REQUEST, limits) {}
    detail::MessageParser core;
};

struct ResponseParser::Impl {
    explicit Impl(Limits limits) : core(HTTP_RESPONSE, limits) {}
    detail::MessageParser core;
};

RequestParser::RequestParser(Limits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

base::Result<void> RequestParser::feed(std::string_view bytes) { return impl_->core.feed(bytes); }
int RequestParser::error_status() const { return impl_->core.error_status(); }

std::optional<Request> RequestParser::next() {
    auto m = impl_->core.next();
    if (!m) return std::nullopt;
    Request r;
    r.method = std::move(m->method);
    r.target = std::move(m->url);
    r.path = std::move(m->path);
    r.query = std::move(m->query);
    r.headers = std::move(m->headers);
    r.body = std::move(m->body);
    r.keep_alive = m->keep_alive;
    return r;
}

ResponseParser::ResponseParser(Limits limits) : impl_(std::make_unique<Impl>(limits)) {}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

base::Result<void> ResponseParser::feed(std::string_view bytes) { return impl_->core.feed(bytes); }
base::Result<void> ResponseParser::finish() { return impl_->core.finish(); }

std::optional<Response> ResponseParser::next() {
    auto m = impl_->core.next();
    if (!m) return std::nullopt;
    Response r;
    r.status = m->status;
    r.headers = std::move(m->headers);
    r.body = std::move(m->body);
    r.keep_alive = m->keep_alive;
    return r;
}

}  // namespace gaffer::http
