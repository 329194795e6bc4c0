// The reconnect schedule: min, 2*min, 4*min, ... capped at max; reset() after a success.
#pragma once

#include "coordinator/base/base.hpp"

namespace gaffer::mqtt::detail {

class Backoff {
public:
    // Requires 0 < min <= max (LinkOptions are validated before one is made).
    Backoff(base::Duration min, base::Duration max) : min_(min), max_(max) {}

    base::Duration next();  // the delay before the next attempt
    void reset() { current_ = base::Duration::zero(); }

private:
    base::Duration min_;
    base::Duration max_;
    base::Duration current_{};
};

}  // namespace gaffer::mqtt::detail
