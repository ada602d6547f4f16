// The control protocol as kvmemuctl and the launcher's parameter files use it.
#include <gtest/gtest.h>

#include "daemon/control_server.hpp"

using kvmemu::daemon::ControlServer;
using kvmemu::kvm::Caller;
using kvmemu::kvm::Config;
using kvmemu::kvm::System;

namespace {

TEST(ControlServer, ParametersWithTheKernelsErrnos) {
    System system(Config{}, [](pid_t) { return 0; });
    EXPECT_EQ(ControlServer::handle(system, "get nx_huge_pages", 1000), "ok N\n");
    EXPECT_EQ(ControlServer::handle(system, "set nx_huge_pages Y", 1000), "err 13\n");  // EACCES
    EXPECT_EQ(ControlServer::handle(system, "set nx_huge_pages Y", 0), "ok\n");
    EXPECT_EQ(ControlServer::handle(system, "get nx_huge_pages", 1000), "ok Y\n");
    EXPECT_EQ(ControlServer::handle(system, "set nx_huge_pages maybe", 0), "err 22\n");  // EINVAL
    EXPECT_EQ(ControlServer::handle(system, "get bogus", 0), "err 2\n");                 // ENOENT
    EXPECT_EQ(ControlServer::handle(system, "frobnicate", 0), "err 22\n");
}

TEST(ControlServer, ListsVmsAndTheirStats) {
    System system(Config{}, [](pid_t) { return 0; });
    EXPECT_EQ(ControlServer::handle(system, "list", 0), ".\n");
    auto vm = *system.create_vm(Caller{11, 10}, 0);
    const auto list = ControlServer::handle(system, "list", 1000);
    EXPECT_EQ(list, "vm " + std::to_string(vm->id()) +
                        " pid 10 vcpus 0 memslots 0 nx_mitigation off disable_nx_cap off\n.\n");
    const auto stats = ControlServer::handle(system, "stats " + std::to_string(vm->id()), 1000);
    EXPECT_NE(stats.find("pages_2m 0\n"), std::string::npos);
    EXPECT_NE(stats.find("nx_lpage_splits 0\n"), std::string::npos);
    EXPECT_EQ(ControlServer::handle(system, "stats 999", 0), "err 2\n");
}

}  // namespace
