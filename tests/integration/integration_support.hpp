// Shared by the integration tests: the test-support library (temporary directories, real
// samizdatd processes on loopback ports, the real `samizdat` CLI, the client library
// in-process), plus reading what the server stored.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/cli.hpp"
#include "support/in_process_clients.hpp"
#include "support/loopback.hpp"
#include "support/run_process.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"
#include "support/text_file.hpp"

namespace samizdat::integration {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ::samizdat::testing;

// Every blob and text value in the tables of an SQLite file whose name matches `table_filter`
// (empty: all tables), concatenated. Used to check what the server stores.
inline std::string dump_tables(const fs::path& file, const std::string& table_filter = "") {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return out;
  }
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (table_filter.empty() || name.find(table_filter) != std::string::npos) tables.push_back(name);
  }
  sqlite3_finalize(stmt);
  for (const auto& table : tables) {
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + table + "\"").c_str(), -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const void* data = sqlite3_column_blob(stmt, i);
        int size = sqlite3_column_bytes(stmt, i);
        if (data != nullptr && size > 0)
          out.append(static_cast<const char*>(data), static_cast<std::size_t>(size));
        out.push_back('\0');
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

// tests/integration/nginx/fronting.conf.in for an nginx in `dir` on `port` with dir/cert.pem and
// dir/key.pem: the secret path of Host hidden.example proxied as a WebSocket to `upstream`.
inline std::string fronting_nginx_config(const fs::path& dir, std::uint16_t port, const std::string& upstream,
                                         const std::string& secret_path) {
  auto config = read_text(fs::path(SAMIZDAT_SOURCE_DIR) / "tests/integration/nginx/fronting.conf.in");
  config = replace_all(config, "@DIR@", dir.string());
  config = replace_all(config, "@PORT@", std::to_string(port));
  config = replace_all(config, "@CERT@", (dir / "cert.pem").string());
  config = replace_all(config, "@KEY@", (dir / "key.pem").string());
  config = replace_all(config, "@SECRET_PATH@", secret_path);
  return replace_all(config, "@UPSTREAM@", upstream);
}

inline std::string as_string(ByteView bytes) { return std::string(as_chars(bytes)); }

}  // namespace samizdat::integration
