// DynsecAdmin: dynsec command batches over MQTT, matched to their answers by correlationData.
#include <charconv>
#include <map>

#include "devices/registry/registry.hpp"

namespace gaffer::registry {

struct DynsecAdmin::Impl {
    struct Pending {
        base::TimePoint deadline;
        std::vector<std::optional<CommandResult>> results;
        std::size_t answered = 0;
        Done done;
    };

    Publish publish;
    Alarm& alarm;
    const base::Clock& clock;
    Options options;
    // Distinguishes this process's batches from other admins' and from an earlier gafferd's,
    // whose answers a persistent session may still deliver.
    std::string nonce = generate_password().substr(0, 12);
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, Pending> pending;

    Impl(Publish p, Alarm& a, const base::Clock& c, Options o)
        : publish(std::move(p)), alarm(a), clock(c), options(o) {}

    void rearm() {
        if (pending.empty()) {
            alarm.disarm();
            return;
        }
        auto earliest = pending.begin()->second.deadline;
        for (const auto& [id, p] : pending) earliest = std::min(earliest, p.deadline);
        auto wait = earliest - clock.now();
        if (wait < base::Duration::zero()) wait = base::Duration::zero();
        alarm.arm(wait, [this] { expire(); });
    }

    void expire() {
        std::vector<Done> expired;
        const auto now = clock.now();
        for (auto it = pending.begin(); it != pending.end();) {
            if (it->second.deadline <= now) {
                expired.push_back(std::move(it->second.done));
                it = pending.erase(it);
            } else {
                ++it;
            }
        }
        rearm();
        for (auto& done : expired)
            done(base::fail(base::Errc::timeout,
                            "the broker did not answer dynsec commands within " +
                                std::to_string(options.timeout.count()) + " ms"));
    }

    // "<nonce>:<id>:<index>" -> (id, index) when the nonce is ours.
    std::optional<std::pair<std::uint64_t, std::size_t>> ours(std::string_view correlation) const {
        if (correlation.size() <= nonce.size() + 1 || correlation.substr(0, nonce.size()) != nonce ||
            correlation[nonce.size()] != ':')
            return std::nullopt;
        auto rest = correlation.substr(nonce.size() + 1);
        auto colon = rest.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        std::uint64_t id = 0;
        std::size_t index = 0;
        auto id_text = rest.substr(0, colon), index_text = rest.substr(colon + 1);
        auto [id_end, id_err] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        auto [ix_end, ix_err] =
            std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
        if (id_err != std::errc() || ix_err != std::errc() || id_end != id_text.data() + id_text.size() ||
            ix_end != index_text.data() + index_text.size())
            return std::nullopt;
        return std::make_pair(id, index);
    }
};

DynsecAdmin::DynsecAdmin(Publish publish, Alarm& alarm, const base::Clock& clock, Options options)
    : impl_(std::make_unique<Impl>(std::move(publish), alarm, clock, options)) {}

DynsecAdmin::~DynsecAdmin() { impl_->alarm.disarm(); }

std::size_t DynsecAdmin::in_flight() const { return impl_->pending.size(); }

void DynsecAdmin::execute(std::vector<Command> commands, Done done) {
    auto& d = *impl_;
    if (commands.empty()) return done(std::vector<CommandResult>{});
    if (commands.size() > d.options.max_commands)
        return done(base::fail(base::Errc::invalid,
                               "a dynsec batch of " + std::to_string(commands.size()) +
                                   " commands; at most " + std::to_string(d.options.max_commands)));
    if (d.pending.size() >= d.options.max_in_flight)
        return done(base::fail(base::Errc::busy, std::to_string(d.pending.size()) +
                                                     " dynsec batches already await the broker"));
    const auto id = d.next_id++;
    for (std::size_t i = 0; i < commands.size(); ++i)
        commands[i]["correlationData"] = d.nonce + ":" + std::to_string(id) + ":" + std::to_string(i);
    auto sent = d.publish(kControlTopic, commands_payload(commands));
    if (!sent) return done(tl::unexpected(sent.error()));
    Impl::Pending p;
    p.deadline = d.clock.now() + d.options.timeout;
    p.results.resize(commands.size());
    p.done = std::move(done);
    d.pending.emplace(id, std::move(p));
    d.rearm();
}

bool DynsecAdmin::feed(std::string_view topic, std::string_view payload) {
    auto& d = *impl_;
    if (topic != kResponseTopic) return false;
    auto results = parse_responses(payload);
    if (!results) return false;
    for (auto& result : *results) {
        if (!result.correlation) continue;
        auto key = d.ours(*result.correlation);
        if (!key) continue;
        auto it = d.pending.find(key->first);
        if (it == d.pending.end() || key->second >= it->second.results.size()) continue;
        auto& slot = it->second.results[key->second];
        if (!slot) ++it->second.answered;
        slot = std::move(result);
    }
    std::vector<std::pair<Done, std::vector<CommandResult>>> complete;
    for (auto it = d.pending.begin(); it != d.pending.end();) {
        if (it->second.answered == it->second.results.size()) {
            std::vector<CommandResult> out;
            for (auto& r : it->second.results) out.push_back(std::move(*r));
            complete.emplace_back(std::move(it->second.done), std::move(out));
            it = d.pending.erase(it);
        } else {
            ++it;
        }
    }
    if (complete.empty()) return false;
    d.rearm();
    for (auto& [done, out] : complete) done(std::move(out));
    return true;
}

void DynsecAdmin::fail_all(const base::Error& reason) {
    auto& d = *impl_;
    std::vector<Done> failed;
    for (auto& [id, p] : d.pending) failed.push_back(std::move(p.done));
    d.pending.clear();
    d.alarm.disarm();
    for (auto& done : failed) done(tl::unexpected(reason));
}

}  // namespace gaffer::registry
