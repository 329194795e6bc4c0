#include "coordinator/scheduler/detail/queue.hpp"

#include <cstdlib>
#include <utility>

namespace gaffer::scheduler::detail {

std::size_t InvocationQueue::size(std::string_view task) const {
    auto it = queues_.find(task);
    return it == queues_.end() ? 0 : it->second.size();
}

void InvocationQueue::push(Pending pending) {
    std::string task = pending.invocation->task;
    queues_[std::move(task)].push_back(std::move(pending));
    ++total_;
}

void InvocationQueue::push_front(Pending pending) {
    std::string task = pending.invocation->task;
    queues_[std::move(task)].push_front(std::move(pending));
    ++total_;
}

const Pending* InvocationQueue::front(std::string_view task) const {
    auto it = queues_.find(task);
    return it == queues_.end() ? nullptr : &it->second.front();
}

Pending InvocationQueue::pop(std::string_view task) {
    auto it = queues_.find(task);
    if (it == queues_.end()) std::abort();  // programmer error: checked by the caller
    Pending p = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) queues_.erase(it);
    --total_;
    return p;
}

std::deque<Pending> InvocationQueue::take_all(std::string_view task) {
    auto it = queues_.find(task);
    if (it == queues_.end()) return {};
    std::deque<Pending> all = std::move(it->second);
    queues_.erase(it);
    total_ -= all.size();
    return all;
}

}  // namespace gaffer::scheduler::detail
