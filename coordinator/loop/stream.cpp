#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "coordinator/loop/detail/stream_impl.hpp"

namespace gaffer::loop {

namespace {
struct WriteRequest {
    uv_write_t req{};
    std::string data;
    Stream::Impl* owner = nullptr;
};

void free_impl(uv_handle_t* h) {
    auto* impl = static_cast<Stream::Impl*>(h->data);
    if (impl->owner) *impl->owner = nullptr;
    delete impl;
}

void close_impl(Stream::Impl* impl) {
    if (impl->closing) return;
    impl->closing = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&impl->handle));
    uv_close(reinterpret_cast<uv_handle_t*>(&impl->handle), free_impl);
}

void finish_with(Stream::Impl* impl, base::Error reason) {
    auto on_close = std::move(impl->on_close);
    close_impl(impl);
    if (on_close) on_close(std::move(reason));
}
}  // namespace

base::Result<std::unique_ptr<Stream>> Stream::adopt(Loop& loop, base::Fd fd) {
    auto impl = new Impl;
    uv_pipe_init(loop.raw(), &impl->handle, 0);
    impl->handle.data = impl;
    int rc = uv_pipe_open(&impl->handle, fd.get());
    if (rc != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&impl->handle), free_impl);
        return base::fail(base::Errc::io, std::string("uv_pipe_open: ") + uv_strerror(rc));
    }
    fd.release();  // the pipe handle owns it now
    std::unique_ptr<Stream> stream(new Stream);
    stream->impl_ = impl;
    impl->owner = &stream->impl_;
    return stream;
}

Stream::~Stream() {
    if (impl_) {
        impl_->owner = nullptr;
        impl_->on_data = nullptr;
        impl_->on_close = nullptr;
        close_impl(impl_);
    }
}

void Stream::start(OnData on_data, OnClose on_close) {
    impl_->on_data = std::move(on_data);
    impl_->on_close = std::move(on_close);
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&impl_->handle),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* impl = static_cast<Impl*>(h->data);
            *buf = uv_buf_init(impl->buffer, sizeof impl->buffer);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* impl = static_cast<Impl*>(s->data);
            if (impl->closing) return;
            if (n > 0) {
                if (impl->on_data) impl->on_data(std::string_view(buf->base, static_cast<size_t>(n)));
                return;
            }
            if (n == UV_EOF) {
                finish_with(impl, base::Error{base::Errc::unavailable, "connection closed by peer"});
            } else if (n < 0) {
                finish_with(impl, base::Error{base::Errc::io, std::string("read: ") +
                                                                  uv_strerror(static_cast<int>(n))});
            }
        });
}

bool Stream::write(std::string bytes) {
    if (!impl_ || impl_->closing) return false;
    auto* request = new WriteRequest;
    request->data = std::move(bytes);
    request->owner = impl_;
    request->req.data = request;
    uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
    int rc = uv_write(&request->req, reinterpret_cast<uv_stream_t*>(&impl_->handle), &buf, 1,
                      [](uv_write_t* req, int status) {
                          auto* r = static_cast<WriteRequest*>(req->data);
                          // Cancelled writes complete before the close callback frees owner.
                          r->owner->queued -= r->data.size();
                          if (status < 0 && status != UV_ECANCELED && !r->owner->closing) {
                              finish_with(r->owner, base::Error{base::Errc::io,
                                                                std::string("write: ") + uv_strerror(status)});
                          }
                          delete r;
                      });
    if (rc != 0) {
        delete request;
        return false;
    }
    impl_->queued += buf.len;
    return true;
}

std::size_t Stream::write_queue_bytes() const { return impl_ ? impl_->queued : 0; }

PeerCredentials Stream::peer() const {
    PeerCredentials creds;
    uv_os_fd_t fd = -1;
    if (!impl_ || uv_fileno(reinterpret_cast<const uv_handle_t*>(&impl_->handle), &fd) != 0) return creds;
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        creds.pid = cred.pid;
        creds.uid = cred.uid;
        creds.gid = cred.gid;
    }
    return creds;
}

void Stream::close() {
    if (!impl_) return;
    impl_->on_data = nullptr;
    impl_->on_close = nullptr;
    close_impl(impl_);
}

// ---- Listener -------------------------------------------------------------------------

struct Listener::Impl {
    uv_pipe_t handle{};
    std::string path;
    OnAccept on_accept;
};

base::Result<std::unique_ptr<Listener>> Listener::listen(Loop& loop, const std::string& path,
                                                          int mode, OnAccept on_accept) {
    auto impl = new Impl;
    impl->path = path;
    impl->on_accept = std::move(on_accept);
    uv_pipe_init(loop.raw(), &impl->handle, 0);
    impl->handle.data = impl;
    auto give_up = [&](const char* what, int rc) {
        uv_close(reinterpret_cast<uv_handle_t*>(&impl->handle),
                 [](uv_handle_t* h) { delete static_cast<Impl*>(h->data); });
        return base::fail(base::Errc::io, std::string(what) + " " + path + ": " + uv_strerror(rc));
    };
    ::unlink(path.c_str());  // a socket left by a crashed daemon
    // Bind under a tight umask so the socket is never briefly wider than `mode`.
    mode_t old_mask = ::umask(0177);
    int rc = uv_pipe_bind(&impl->handle, path.c_str());
    ::umask(old_mask);
    if (rc != 0) return give_up("bind", rc);
    if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) return give_up("chmod", -errno);
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&impl->handle), 128, [](uv_stream_t* server, int status) {
        auto* impl = static_cast<Impl*>(server->data);
        if (status < 0) return;
        std::unique_ptr<Stream> stream(new Stream);
        stream->impl_ = new Stream::Impl;
        uv_pipe_init(server->loop, &stream->impl_->handle, 0);
        stream->impl_->handle.data = stream->impl_;
        stream->impl_->owner = &stream->impl_;
        if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&stream->impl_->handle)) != 0) return;
        impl->on_accept(std::move(stream));
    });
    if (rc != 0) return give_up("listen", rc);
    std::unique_ptr<Listener> listener(new Listener);
    listener->impl_ = impl;
    return listener;
}

Listener::~Listener() {
    ::unlink(impl_->path.c_str());
    uv_close(reinterpret_cast<uv_handle_t*>(&impl_->handle),
             [](uv_handle_t* h) { delete static_cast<Impl*>(h->data); });
}

}  // namespace gaffer::loop
