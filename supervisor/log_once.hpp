// LogOnce: remembers which bad situations were already logged, so each is reported once.
#pragma once

#include <mutex>
#include <set>
#include <string>

namespace kvmemu::supervisor {

class LogOnce {
  public:
    // True the first time `key` is seen: the caller logs then.
    bool first(const std::string& key) {
        std::lock_guard lock(m_);
        if (seen_.size() >= kMaxKeys) return false;
        return seen_.insert(key).second;
    }

  private:
    static constexpr std::size_t kMaxKeys = 256;
    std::mutex m_;
    std::set<std::string> seen_;
};

}  // namespace kvmemu::supervisor
