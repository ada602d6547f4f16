// Logging setup with spdlog: systemd_sink under systemd (JOURNAL_STREAM set), stderr otherwise.
#include "daemon/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace kvmemu::daemon {

bool setup_logging(const std::string& level) {
    const auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") return false;
    std::shared_ptr<spdlog::logger> logger;
    if (std::getenv("JOURNAL_STREAM") != nullptr) {
        logger = std::make_shared<spdlog::logger>(
            "kvmemud", std::make_shared<spdlog::sinks::systemd_sink_mt>("kvmemud"));
        logger->set_pattern("%v");
    } else {
        logger = spdlog::stderr_color_mt("kvmemud");
        logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    }
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return true;
}

}  // namespace kvmemu::daemon
