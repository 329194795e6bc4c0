#include <algorithm>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment {

namespace {

bool valid_component(std::string_view name) {
    if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
    });
}

bool valid_parent(std::string_view parent) {
    while (true) {
        auto cut = parent.find('/');
        if (!valid_component(parent.substr(0, cut))) return false;
        if (cut == std::string_view::npos) return true;
        parent.remove_prefix(cut + 1);
    }
}

}  // namespace

base::Result<CgroupTree> CgroupTree::open(CgroupLayout layout, CgroupTreeOptions options,
                                          CgroupFs& fs) {
    if (!valid_parent(options.parent))
        return base::fail(base::Errc::invalid,
                          "cgroup_parent \"" + options.parent +
                              "\" must be names of [A-Za-z0-9_.-] separated by '/'");
    if (layout.hierarchies.empty())
        return base::fail(base::Errc::invalid, "the cgroup layout has no hierarchy");
    CgroupTree tree;
    tree.fs_ = &fs;
    tree.options_ = std::move(options);
    for (auto& h : layout.hierarchies) {
        if (layout.version == CgroupVersion::v2) {
            auto delegated = detail::prepare_v2(fs, h, tree.options_.parent);
            if (!delegated) return tl::unexpected(delegated.error());
            h.own = *delegated;
        }
        // v1: the parent goes below the daemon's own cgroup of each controller, not below
        // the hierarchy root. That keeps tasks inside whatever the daemon was confined to
        // (a systemd service, a container's memory:/process_api/<id>), which is what the
        // administrator limited, and it makes v1 and v2 place environments alike.
        std::string rel;
        for (std::string_view part : {std::string_view(h.own), std::string_view(tree.options_.parent)}) {
            std::string_view rest = part;
            while (!rest.empty()) {
                auto cut = rest.find('/');
                rel = detail::join_rel({rel, rest.substr(0, cut)});
                rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
                const std::string dir = h.mount + "/" + rel;
                const bool existed = fs.exists(dir);
                if (auto ok = fs.make_dir(dir); !ok) return tl::unexpected(ok.error());
                if (!existed) tree.created_dirs_.push_back(dir);
            }
        }
        auto lock = fs.lock_dir(h.mount + "/" + rel);
        if (!lock) return tl::unexpected(lock.error());
        tree.locks_.push_back(std::move(*lock));
        tree.parent_rel_.push_back(rel);
        tree.parent_dirs_.push_back(h.mount + "/" + rel);
    }
    tree.layout_ = std::move(layout);
    return tree;
}

void CgroupTree::remove_created_dirs() {
    locks_.clear();
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) (void)fs_->remove_dir(*it);
    created_dirs_.clear();
}

base::Result<Cgroup> CgroupTree::create(std::string_view name, const CgroupLimits& limits) {
    if (!valid_component(name))
        return base::fail(base::Errc::invalid, "cgroup name \"" + std::string(name) +
                                                   "\" must be one name of [A-Za-z0-9_.-]");
    Cgroup group;
    group.fs_ = fs_;
    group.version_ = layout_.version;
    group.name_ = std::string(name);
    group.limits_ = limits;
    for (std::size_t i = 0; i < layout_.hierarchies.size(); ++i) {
        std::string dir = parent_dirs_[i] + "/" + group.name_;
        if (fs_->exists(dir))
            return base::fail(base::Errc::conflict, "the cgroup " + dir + " exists already");
        group.dirs_.push_back(dir);
        for (const auto& c : layout_.hierarchies[i].controllers) group.dir_of_[c] = dir;
    }

    group.swap_max_ = layout_.version == CgroupVersion::v2 && fs_->exists(parent_dirs_[0] + "/memory.swap.max");
    base::Result<void> made;
    for (std::size_t i = 0; i < layout_.hierarchies.size() && made; ++i) {
        if (options_.use_libcgroup)
            made = detail::libcgroup_create(layout_.hierarchies[i], parent_rel_[i] + "/" + group.name_);
        else
            made = fs_->make_dir(group.dirs_[i]);
    }
    // The limits are written directly even with libcgroup: it re-reads /proc/mounts for
    // every value it writes, which was most of the cost of creating an environment.
    if (made) made = group.set_limits(limits);
    if (!made) {
        (void)group.remove();
        return tl::unexpected(made.error());
    }
    return group;
}

base::Result<std::size_t> CgroupTree::cleanup_stale() {
    std::vector<std::string> names;
    for (const auto& dir : parent_dirs_) {
        auto found = fs_->list_dirs(dir);
        if (!found) return tl::unexpected(found.error());
        for (auto& n : *found)
            if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
    }
    for (const auto& n : names) {
        Cgroup group;
        group.fs_ = fs_;
        group.version_ = layout_.version;
        group.name_ = n;
        for (std::size_t i = 0; i < layout_.hierarchies.size(); ++i) {
            group.dirs_.push_back(parent_dirs_[i] + "/" + n);
            for (const auto& c : layout_.hierarchies[i].controllers)
                group.dir_of_[c] = group.dirs_.back();
        }
        if (auto ok = group.remove(); !ok) return tl::unexpected(ok.error());
    }
    return names.size();
}

}  // namespace gaffer::environment
