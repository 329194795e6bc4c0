#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include <csignal>
#include <thread>

#include "coordinator/loop/loop.hpp"

using namespace gaffer;
using namespace std::chrono_literals;

TEST_CASE("post from another thread runs every function on the loop thread") {
    loop::Loop loop;
    int ran = 0;
    std::thread::id loop_thread = std::this_thread::get_id();
    bool all_on_loop = true;
    std::thread poster([&] {
        for (int i = 0; i < 1000; ++i)
            loop.post([&] {
                all_on_loop = all_on_loop && std::this_thread::get_id() == loop_thread;
                if (++ran == 1000) loop.stop();
            });
    });
    loop::Timer guard(loop);
    guard.start(5s, [&] { loop.stop(); });
    loop.run();
    poster.join();
    CHECK(ran == 1000);
    CHECK(all_on_loop);
}

TEST_CASE("a timer may destroy itself from its own callback") {
    loop::Loop loop;
    auto timer = std::make_unique<loop::Timer>(loop);
    bool fired = false;
    timer->start(1ms, [&] {
        fired = true;
        timer.reset();
        loop.stop();
    });
    loop.run();
    CHECK(fired);
    CHECK(timer == nullptr);
}

TEST_CASE("streams carry bytes both ways and report EOF") {
    loop::Loop loop;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    auto a = loop::Stream::adopt(loop, base::Fd(fds[0])).value();
    auto b = loop::Stream::adopt(loop, base::Fd(fds[1])).value();
    std::string got;
    bool closed = false;
    b->start([&](std::string_view bytes) {
        got += bytes;
        if (got == "hello") b->write("world");
    }, [](base::Error) {});
    std::string reply;
    a->start([&](std::string_view bytes) {
        reply += bytes;
        if (reply == "world") b.reset();  // closing b gives a an EOF
    }, [&](base::Error e) {
        closed = true;
        CHECK(e.code == base::Errc::unavailable);
        loop.stop();
    });
    CHECK(a->write("hello"));
    CHECK(a->peer().pid == ::getpid());
    loop.run();
    CHECK(got == "hello");
    CHECK(reply == "world");
    CHECK(closed);
}

TEST_CASE("a listener accepts connections on a unix socket with the given mode") {
    loop::Loop loop;
    std::string path = "/tmp/gaffer-loop-test-" + std::to_string(::getpid()) + ".sock";
    std::unique_ptr<loop::Stream> accepted;
    auto listener = loop::Listener::listen(loop, path, 0660, [&](std::unique_ptr<loop::Stream> s) {
        accepted = std::move(s);
        CHECK(accepted->peer().uid == ::getuid());
        loop.stop();
    });
    REQUIRE(listener);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0660);
    int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    loop.run();
    CHECK(accepted != nullptr);
    ::close(client);
    listener->reset();
    CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("a spawned process reports its exit status, and kill() reaches it") {
    loop::Loop loop;
    std::int64_t status = -1;
    auto p = loop::Process::spawn(loop, {.argv = {"/bin/sh", "-c", "exit 7"}},
                                  [&](std::int64_t s, int) { status = s; loop.stop(); });
    REQUIRE(p);
    loop.run();
    CHECK(status == 7);

    int signal = 0;
    auto sleeper = loop::Process::spawn(loop, {.argv = {"/bin/sleep", "30"}},
                                        [&](std::int64_t, int sig) { signal = sig; loop.stop(); });
    REQUIRE(sleeper);
    CHECK((*sleeper)->kill(SIGTERM));
    loop.run();
    CHECK(signal == SIGTERM);
}

TEST_CASE("spawning a missing program is an error, not a crash") {
    loop::Loop loop;
    auto p = loop::Process::spawn(loop, {.argv = {"/nonexistent/program"}}, [](std::int64_t, int) {});
    REQUIRE_FALSE(p);
    CHECK(p.error().message.find("/nonexistent/program") != std::string::npos);
}
