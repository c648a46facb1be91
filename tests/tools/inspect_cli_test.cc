#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/env.h"
#include "tests/tools/inspect_test_util.h"
#include "tools/inspect/cli.h"
#include "tools/inspect/devices.h"
#include "tools/inspect/format.h"

namespace daxkv::inspect {
namespace {

using ::daxkv::testing::Env;

TEST(InspectCliTest, ParsesValuesFlagsAndPositionals) {
  Args a;
  std::string error;
  ASSERT_TRUE(ParseArgs({"pages", "/dev/dax0.0", "--offset=2M", "--length",
                         "4M", "--touch", "read", "--json"},
                        &a, &error))
      << error;
  EXPECT_EQ(a.command, "pages");
  ASSERT_EQ(a.positional.size(), 1u);
  EXPECT_EQ(a.positional[0], "/dev/dax0.0");
  EXPECT_EQ(a.Value("offset"), "2M");
  EXPECT_EQ(a.Value("length"), "4M");
  EXPECT_EQ(a.Value("touch"), "read");
  EXPECT_TRUE(a.Has("json"));
  EXPECT_EQ(a.Value("pid", "none"), "none");
}

TEST(InspectCliTest, RejectsBadCommandLines) {
  Args a;
  std::string error;
  EXPECT_FALSE(ParseArgs({"pages", "--length"}, &a, &error));
  EXPECT_NE(error.find("--length needs a value"), std::string::npos);
  Args b;
  EXPECT_FALSE(ParseArgs({"devices", "--bogus"}, &b, &error));
  EXPECT_NE(error.find("--bogus"), std::string::npos);
  Args c;
  EXPECT_FALSE(ParseArgs({"devices", "--repair"}, &c, &error));
  EXPECT_NE(error.find("does not take --repair"), std::string::npos);
  Args d;
  EXPECT_FALSE(ParseArgs({"--json"}, &d, &error));
}

// Sizes and HumanBytes are base/byte_size.h's (tests/base/byte_size_test.cc).
TEST(InspectCliTest, FormatsAddressesAndNodes) {
  EXPECT_EQ(Hex(4096), "0x1000");
  EXPECT_EQ(NodeText(-1), "-");
}

TEST(InspectCliTest, UsageErrorsExit16WithAMessage) {
  std::string out;
  std::string err;
  EXPECT_EQ(RunTool({"frobnicate"}, &out, &err), kExitUsage);
  EXPECT_NE(err.find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_EQ(RunTool({"devices", "extra"}, &out, &err), kExitUsage);
  EXPECT_NE(err.find("unexpected argument 'extra'"), std::string::npos);
  EXPECT_EQ(RunTool({"--help"}, &out, &err), kExitOk);
  EXPECT_NE(out.find("usage:"), std::string::npos);
}

// What the QEMU lab's memmap= guest looks like after create-namespace -m
// devdax -a 2M; rendered without the lab so the format is covered on host.
probe::Inventory LabLikeInventory() {
  probe::Inventory inv;
  probe::NdBus bus;
  bus.name = "ndbus0";
  bus.provider_name = "e820";
  bus.provider = probe::BusProvider::kE820;
  probe::NdRegion region;
  region.name = "region0";
  region.type = "pmem";
  region.size = 512u << 20;
  region.align = 2u << 20;
  region.numa_node = 0;
  probe::Namespace ns;
  ns.name = "namespace0.0";
  ns.mode = probe::NamespaceMode::kDevDax;
  ns.active = true;
  ns.raw_size = 512u << 20;
  ns.size = 508u << 20;
  ns.align = 2u << 20;
  ns.dax_device = "dax0.0";
  ns.bad_blocks.push_back({8, 1});
  region.namespaces.push_back(ns);
  bus.regions.push_back(region);
  inv.buses.push_back(bus);
  probe::DaxDevice dev;
  dev.name = "dax0.0";
  dev.path = "/dev/dax0.0";
  dev.size = 508u << 20;
  dev.align = 2u << 20;
  dev.mode = "devdax";
  dev.enabled = true;
  inv.dax_devices.push_back(dev);
  return inv;
}

TEST(InspectDevicesTest, RendersALabLikeMachine) {
  std::ostringstream out;
  RenderInventory(LabLikeInventory(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("provider e820"), std::string::npos) << text;
  EXPECT_NE(text.find("memmap= emulation"), std::string::npos);
  EXPECT_NE(text.find("namespace0.0  devdax  508 MiB (raw 512 MiB)  align "
                      "2 MiB"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("-> /dev/dax0.0"), std::string::npos);
  EXPECT_NE(text.find("bad block: sector 8 +1"), std::string::npos);
  EXPECT_NE(text.find("/dev/dax0.0  devdax  508 MiB"), std::string::npos);
}

TEST(InspectDevicesTest, JsonCarriesEveryLevel) {
  nlohmann::json j = InventoryToJson(LabLikeInventory());
  EXPECT_EQ(j["buses"][0]["provider"], "e820");
  EXPECT_EQ(j["buses"][0]["regions"][0]["namespaces"][0]["mode"], "devdax");
  EXPECT_EQ(j["buses"][0]["regions"][0]["namespaces"][0]["bad_blocks"].size(),
            1u);
  EXPECT_EQ(j["dax_devices"][0]["align"], 2u << 20);
  EXPECT_EQ(j["empty"], false);
}

TEST(InspectDevicesTest, EmptyMachineSaysSoAndExitsZero) {
  probe::Inventory empty;
  std::ostringstream out;
  RenderInventory(empty, out);
  EXPECT_NE(out.str().find("No DAX on this machine"), std::string::npos);
  std::string o;
  std::string e;
  EXPECT_EQ(RunTool({"devices", "--json"}, &o, &e), kExitOk) << e;
  nlohmann::json j = nlohmann::json::parse(o);
  EXPECT_TRUE(j.contains("dax_devices"));
}

// Lab: DAXKV_TEST_DEVDAX=/dev/dax0.0, DAXKV_TEST_PROVIDER=e820 (memmap=).
TEST(InspectDevicesTest, RealDeviceIsListedWithItsBus) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) {
    GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  }
  std::string out;
  std::string err;
  ASSERT_EQ(RunTool({"devices", "--json"}, &out, &err), kExitOk) << err;
  nlohmann::json j = nlohmann::json::parse(out);
  bool listed = false;
  for (const auto& d : j["dax_devices"]) listed |= d["path"] == dev;
  EXPECT_TRUE(listed) << out;
  ASSERT_FALSE(j["buses"].empty()) << out;
  const char* provider = Env("DAXKV_TEST_PROVIDER");
  if (provider != nullptr) {
    bool found = false;
    for (const auto& b : j["buses"]) found |= b["provider"] == provider;
    EXPECT_TRUE(found) << "no bus with provider " << provider << ": " << out;
  }
  ASSERT_EQ(RunTool({"devices"}, &out, &err), kExitOk);
  EXPECT_NE(out.find(dev), std::string::npos) << out;
}

// Lab: the path the kernel's symbols name (DAXKV_TEST_FAULT_PATH), from
// evidence: the kernel functions where kprobes work, else smaps.
TEST(InspectFaultPathTest, RealDeviceGivesEvidence) {
  const char* dev = Env("DAXKV_TEST_DEVDAX");
  if (dev == nullptr) {
    GTEST_SKIP() << "DAXKV_TEST_DEVDAX is not set";
  }
  std::string out;
  std::string err;
  ASSERT_EQ(RunTool({"fault-path", "--json"}, &out, &err), kExitOk) << err;
  nlohmann::json j = nlohmann::json::parse(out);
  const bool counted = j["kernel_functions"]["status"] == "counted";
  EXPECT_EQ(j["source"], counted ? "kernel functions" : "evidence") << out;
  if (const char* want = Env("DAXKV_TEST_FAULT_PATH")) {
    EXPECT_EQ(j["fault_path"], want) << j["reasoning"];
    EXPECT_EQ(j["smaps_fault_path"], want) << j["smaps_reasoning"];
    if (counted) {
      EXPECT_EQ(j["kernel_functions"]["fault_path"], want);
    }
  }
  ASSERT_EQ(RunTool({"fault-path"}, &out, &err), kExitOk) << err;
  EXPECT_NE(out.find("kernel functions"), std::string::npos) << out;
}

TEST(InspectFaultPathTest, ReportsAVerdictAndTheKernelFeatures) {
  std::string out;
  std::string err;
  ASSERT_EQ(RunTool({"fault-path", "--json"}, &out, &err), kExitOk) << err;
  nlohmann::json j = nlohmann::json::parse(out);
  EXPECT_TRUE(j["fault_path"] == "legacy" || j["fault_path"] == "refcounted" ||
              j["fault_path"] == "unknown");
  EXPECT_FALSE(j["kernel_release"].get<std::string>().empty());
  EXPECT_TRUE(j["kernel_features"].contains("userfaultfd"));
  EXPECT_EQ(RunTool({"fault-path", "--path", "/dev/shm"}, &out, &err),
            kExitOperational);
  EXPECT_NE(err.find("not on a DAX filesystem"), std::string::npos) << err;
}

}  // namespace
}  // namespace daxkv::inspect
