// Error codes survive the trip from the server's Errc to the client's: what went wrong on
// the server is what the client reports.
#include "wire/error_code.hpp"

#include <gtest/gtest.h>

#include <set>

namespace samizdat::wire {
namespace {

constexpr Errc kLastErrc = Errc::internal;

std::vector<Errc> every_errc() {
  std::vector<Errc> all;
  for (int i = 0; i <= static_cast<int>(kLastErrc); ++i) all.push_back(static_cast<Errc>(i));
  return all;
}

TEST(WireErrorCode, EveryErrcComesBackAsItself) {
  // every_errc() is complete: the value after kLastErrc is no Errc.
  EXPECT_EQ(to_string(static_cast<Errc>(static_cast<int>(kLastErrc) + 1)), "unknown error");
  for (Errc code : every_errc()) {
    EXPECT_EQ(errc_from_wire(to_wire_error(code)), code) << to_string(code);
  }
}

TEST(WireErrorCode, EveryErrcHasItsOwnSpecifiedCode) {
  std::set<ErrorCode> seen;
  for (Errc code : every_errc()) {
    ErrorCode wire = to_wire_error(code);
    EXPECT_NE(wire, ERROR_UNSPECIFIED) << to_string(code);
    EXPECT_TRUE(ErrorCode_IsValid(wire)) << to_string(code);
    EXPECT_TRUE(seen.insert(wire).second) << to_string(code) << " shares a code";
  }
}

TEST(WireErrorCode, EveryCodeInTheSchemaReadsAsAnErrcThatSendsTheSameCode) {
  for (int value = ErrorCode_MIN; value <= ErrorCode_MAX; ++value) {
    if (!ErrorCode_IsValid(value)) continue;
    auto code = static_cast<ErrorCode>(value);
    if (code == ERROR_UNSPECIFIED || code == ERROR_NOT_REGISTERED) continue;  // below
    EXPECT_EQ(to_wire_error(errc_from_wire(code)), code) << ErrorCode_Name(code);
  }
  EXPECT_EQ(errc_from_wire(ERROR_NOT_REGISTERED), Errc::auth_failed);
  EXPECT_EQ(errc_from_wire(ERROR_UNSPECIFIED), Errc::internal);
}

TEST(WireErrorCode, ACodeFromANewerPeerReadsAsInternal) {
  EXPECT_EQ(errc_from_wire(static_cast<ErrorCode>(ErrorCode_MAX + 1)), Errc::internal);
}

}  // namespace
}  // namespace samizdat::wire
