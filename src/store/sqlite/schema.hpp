// The database schema and its forward migrations, versioned with PRAGMA user_version
// and marked as ours with PRAGMA application_id.
#pragma once

#include <cstdint>

#include "store/sqlite/connection.hpp"
#include "util/result.hpp"

namespace samizdat::store::sqlite {

inline constexpr std::int32_t kApplicationId = 0x535a4442;  // "SZDB"

// Version this build writes; migrate() brings older databases up to it.
std::int32_t latest_schema_version();

// Creates or upgrades the schema in one transaction. Errc::storage for a file that is
// some other SQLite database or was written by a newer version (never downgraded).
Status migrate(Connection& db);

}  // namespace samizdat::store::sqlite
