#include "devices/mqtt/detail/backoff.hpp"

namespace gaffer::mqtt::detail {

base::Duration Backoff::next() {
    if (current_ <= base::Duration::zero()) {
        current_ = min_;
    } else if (current_ >= max_ / 2) {
        current_ = max_;  // doubling past max_/2 would overshoot (or overflow)
    } else {
        current_ *= 2;
    }
    return current_;
}

}  // namespace gaffer::mqtt::detail
