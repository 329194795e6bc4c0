#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "coordinator/loop/loop.hpp"
#include "fake_backend.hpp"
#include "fake_devices.hpp"

using namespace gaffer;
using namespace std::chrono_literals;

namespace {

// A blocking client with a receive timeout, so that a broken server fails the test
// instead of hanging it.
class Client {
public:
    explicit Client(const std::string& path) {
        fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        path.copy(addr.sun_path, sizeof addr.sun_path - 1);
        timeval tv{5, 0};
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    bool connected() const { return connected_; }
    bool send(std::string_view bytes) {
        return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(bytes.size());
    }
    // The next response, or nullopt at EOF / timeout / parse error.
    std::optional<http::Response> receive() {
        while (true) {
            if (auto r = parser_.next()) return r;
            char buf[4096];
            const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n <= 0) {
                eof_ = n == 0;
                if (!parser_.finish()) return std::nullopt;
                return parser_.next();
            }
            if (!parser_.feed(std::string_view(buf, static_cast<std::size_t>(n)))) return std::nullopt;
        }
    }
    bool closed_by_server() {
        char c;
        return ::recv(fd_.get(), &c, 1, 0) == 0;
    }

private:
    base::Fd fd_;
    bool connected_ = false;
    bool eof_ = false;
    http::ResponseParser parser_;
};

std::string request(std::string method, std::string target, std::string body = {},
                    bool keep_alive = true) {
    http::Request q;
    q.method = std::move(method);
    q.target = std::move(target);
    q.body = std::move(body);
    q.keep_alive = keep_alive;
    return http::serialize(q);
}

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/gaffer-api-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string path;
};

// Runs a Server in a loop on this thread while `client` runs on another; held synchronous
// invocations are answered every 20 ms (on the loop thread, as a real backend would).
template <class Fn>
void with_server(api::ServerOptions options, api::test::FakeBackend& backend, Fn client) {
    loop::Loop loop;
    {
        auto server = api::Server::start(loop, backend, options);
        REQUIRE_MESSAGE(server, (server ? "" : server.error().message));
        loop::Timer completer(loop);
        completer.start(20ms, [&] {
            for (auto& [id, done] : backend.held) done(backend.next_outcome);
            backend.held.clear();
        }, 20ms);
        std::thread thread([&] {
            client(**server);
            loop.post([&] { loop.stop(); });
        });
        loop.run();
        thread.join();
    }
}

api::ServerOptions options_in(const TempDir& dir) {
    api::ServerOptions o;
    o.socket_path = dir.path + "/api.sock";
    return o;
}

const char* kManifest = R"({"name": "hello"})";

}  // namespace

TEST_CASE("server: socket mode, keep-alive, and pipelined requests answered in order") {
    TempDir dir;
    api::test::FakeBackend backend;
    backend.put_task(kManifest).value();
    backend.answer_sync_at_once = false;  // the invoke answers ~20 ms later
    auto options = options_in(dir);
    with_server(options, backend, [&](api::Server&) {
        struct stat st {};
        CHECK(::stat(options.socket_path.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0660);
        CHECK(S_ISSOCK(st.st_mode));

        Client c(options.socket_path);
        REQUIRE(c.connected());
        CHECK(c.send(request("POST", "/v1/tasks/hello/invoke", "{}") + request("GET", "/v1/status")));
        auto first = c.receive();
        auto second = c.receive();
        REQUIRE(first);
        REQUIRE(second);
        CHECK(*http::find_header(first->headers, "X-Gaffer-Status") == "ok");
        CHECK(first->body == "{\"answer\":42}");
        CHECK(second->body.find("0.1.0-test") != std::string::npos);
        CHECK(c.send(request("GET", "/v1/tasks")));  // same connection, again
        auto third = c.receive();
        REQUIRE(third);
        CHECK(third->status == 200);
        CHECK(third->keep_alive);
    });
    CHECK_FALSE(std::filesystem::exists(options.socket_path));  // unlinked on destruction
}

TEST_CASE("server: Connection: close is answered, then the server closes") {
    TempDir dir;
    api::test::FakeBackend backend;
    auto options = options_in(dir);
    with_server(options, backend, [&](api::Server&) {
        Client c(options.socket_path);
        CHECK(c.send(request("GET", "/v1/status", {}, false) + request("GET", "/v1/status")));
        auto r = c.receive();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK_FALSE(r->keep_alive);
        CHECK(c.closed_by_server());
    });
}

TEST_CASE("server: malformed HTTP is a 400 and a close; an oversize body a 413") {
    TempDir dir;
    api::test::FakeBackend backend;
    auto options = options_in(dir);
    options.limits.max_body_bytes = 100;
    with_server(options, backend, [&](api::Server&) {
        Client bad(options.socket_path);
        CHECK(bad.send("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"));
        auto r = bad.receive();
        REQUIRE(r);
        CHECK(r->status == 400);
        CHECK(r->body.find("malformed HTTP") != std::string::npos);
        CHECK(bad.closed_by_server());

        Client big(options.socket_path);
        CHECK(big.send("POST /v1/tasks HTTP/1.1\r\nContent-Length: 101\r\n\r\n"));
        auto t = big.receive();
        REQUIRE(t);
        CHECK(t->status == 413);
        CHECK(t->body.find("limit of 100 bytes") != std::string::npos);
    });
    CHECK(backend.tasks.empty());
}

TEST_CASE("server: answers before a parse error still go out, in order") {
    TempDir dir;
    api::test::FakeBackend backend;
    auto options = options_in(dir);
    with_server(options, backend, [&](api::Server&) {
        Client c(options.socket_path);
        CHECK(c.send(request("GET", "/v1/status") + "BROKEN\r\n\r\n"));
        auto ok = c.receive();
        auto bad = c.receive();
        REQUIRE(ok);
        REQUIRE(bad);
        CHECK(ok->status == 200);
        CHECK(bad->status == 400);
    });
}

TEST_CASE("server: connections over the limit get 503; idle ones are closed") {
    TempDir dir;
    api::test::FakeBackend backend;
    auto options = options_in(dir);
    options.max_connections = 1;
    options.idle_timeout = 300ms;
    with_server(options, backend, [&](api::Server&) {
        Client first(options.socket_path);
        CHECK(first.send(request("GET", "/v1/status")));
        REQUIRE(first.receive());  // the server has accepted it by now
        Client second(options.socket_path);
        auto r = second.receive();
        REQUIRE(r);
        CHECK(r->status == 503);
        CHECK(r->body.find("limit 1") != std::string::npos);
        CHECK(first.closed_by_server());  // idle timeout
        std::this_thread::sleep_for(50ms);
        Client third(options.socket_path);  // a slot is free again
        CHECK(third.send(request("GET", "/v1/status")));
        auto t = third.receive();
        REQUIRE(t);
        CHECK(t->status == 200);
    });
}

TEST_CASE("server: a client pipelining past the limit is cut off") {
    TempDir dir;
    api::test::FakeBackend backend;
    backend.put_task(kManifest).value();
    backend.answer_sync_at_once = false;  // the first request stays in flight
    auto options = options_in(dir);
    options.max_pipelined = 2;
    with_server(options, backend, [&](api::Server&) {
        Client c(options.socket_path);
        std::string burst = request("POST", "/v1/tasks/hello/invoke", "{}");
        for (int i = 0; i < 5; ++i) burst += request("GET", "/v1/status");
        CHECK(c.send(burst));
        CHECK_FALSE(c.receive());  // closed, nothing answered
    });
}

TEST_CASE("server: socket paths libuv would truncate are refused") {
    loop::Loop loop;
    api::test::FakeBackend backend;
    api::ServerOptions o;
    o.socket_path = "/tmp/" + std::string(120, 'x');
    auto server = api::Server::start(loop, backend, o);
    REQUIRE_FALSE(server);
    CHECK(server.error().code == base::Errc::invalid);
}

TEST_CASE("server: a client that goes away during a synchronous invocation") {
    TempDir dir;
    api::test::FakeBackend backend;
    backend.put_task(kManifest).value();
    backend.answer_sync_at_once = false;
    auto options = options_in(dir);
    with_server(options, backend, [&](api::Server&) {
        {
            Client c(options.socket_path);
            CHECK(c.send(request("POST", "/v1/tasks/hello/invoke", "{}")));
        }
        std::this_thread::sleep_for(100ms);  // the outcome arrives with nobody to answer
        Client d(options.socket_path);
        CHECK(d.send(request("GET", "/metrics")));
        auto m = d.receive();
        REQUIRE(m);
        CHECK(m->status == 200);
    });
    CHECK(backend.held.empty());
}

TEST_CASE("server: peers outside root, the daemon's uid and the socket group get 403") {
    if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0 || ::access("/usr/bin/curl", X_OK) != 0) {
        MESSAGE("skipped: needs root, setpriv and curl to connect as another user");
        return;
    }
    TempDir dir;
    ::chmod(dir.path.c_str(), 0755);
    api::test::FakeBackend backend;
    auto options = options_in(dir);
    options.socket_mode = 0666;  // let the filesystem admit everyone: the API decides
    options.socket_group = 4242;
    auto code_as_nobody = [&](const std::string& groups) {
        const std::string cmd = "/usr/bin/setpriv --reuid=65534 --regid=65534 " + groups +
                                " /usr/bin/curl -s -o /dev/null -w '%{http_code}' --unix-socket " +
                                options.socket_path + " http://localhost/v1/status";
        std::string out;
        if (FILE* p = ::popen(cmd.c_str(), "r")) {
            char buf[64];
            while (std::fgets(buf, sizeof buf, p)) out += buf;
            ::pclose(p);
        }
        return out;
    };
    with_server(options, backend, [&](api::Server&) {
        struct stat st {};
        CHECK(::stat(options.socket_path.c_str(), &st) == 0);
        CHECK(st.st_gid == 4242);
        CHECK(code_as_nobody("--clear-groups") == "403");
        CHECK(code_as_nobody("--groups=4242") == "200");
    });
}

TEST_CASE("server: an async device call keeps the connection open and answers in order") {
    TempDir dir;
    api::test::FakeBackend backend;
    api::test::FakeDevices devices;
    devices.hold_async = true;
    auto options = options_in(dir);
    options.devices = &devices;
    loop::Loop loop;
    auto server = api::Server::start(loop, backend, options);
    REQUIRE(server);
    loop::Timer completer(loop);
    completer.start(30ms, [&] { devices.complete_held(); }, 30ms);
    std::optional<http::Response> added, routes;
    std::thread thread([&] {
        Client c(options.socket_path);
        if (c.send(request("POST", "/v1/devices", R"({"thing": "s1"})") + request("GET", "/v1/routes"))) {
            added = c.receive();
            routes = c.receive();
        }
        loop.post([&] { loop.stop(); });
    });
    loop.run();
    thread.join();
    server->reset();
    REQUIRE(added);
    CHECK(added->status == 201);
    CHECK(added->body.find("\"password\":\"pw-s1\"") != std::string::npos);
    REQUIRE(routes);
    CHECK(routes->status == 200);
    CHECK(devices.devices.count("s1") == 1);
}

