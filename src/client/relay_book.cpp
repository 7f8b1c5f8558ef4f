#include "client/relay_book.hpp"

#include "transport/relay/relay_dial.hpp"

namespace samizdat::client {
namespace {

Status ensure_table(AccountStore& store) {
  return store.database().exec(
      "CREATE TABLE IF NOT EXISTS relays ("
      " id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " link TEXT NOT NULL UNIQUE,"
      " added_ms INTEGER NOT NULL)",
      "creating the relays table");
}

}  // namespace

Result<StoredRelay> add_relay(AccountStore& store, std::string_view text, std::int64_t now_ms) {
  auto parsed = SZ_TRY(transport::parse_relay_link(text));
  // Store the canonical form, so the same relay pasted with spaces is not added twice.
  auto link = SZ_TRY(transport::encode_relay_link(parsed));
  SZ_CHECK(ensure_table(store));
  auto& db = store.database();
  {
    auto find = SZ_TRY(db.prepare("SELECT id FROM relays WHERE link = ?"));
    find->bind_text(1, link);
    if (SZ_TRY(find->step("looking up a relay"))) {
      return make_error(Errc::already_exists,
                        "this relay is already added (id " + std::to_string(find->column_int64(0)) + ")");
    }
  }
  auto insert = SZ_TRY(db.prepare("INSERT INTO relays (link, added_ms) VALUES (?, ?)"));
  insert->bind_text(1, link).bind(2, now_ms);
  SZ_CHECK(insert->run("storing a relay"));
  return StoredRelay{db.last_insert_rowid(), link, parsed.endpoints, now_ms};
}

Result<std::vector<StoredRelay>> list_relays(AccountStore& store) {
  SZ_CHECK(ensure_table(store));
  auto select = SZ_TRY(store.database().prepare("SELECT id, link, added_ms FROM relays ORDER BY id"));
  std::vector<StoredRelay> out;
  while (SZ_TRY(select->step("listing relays"))) {
    StoredRelay relay;
    relay.id = select->column_int64(0);
    relay.link = select->column_text(1);
    relay.added_ms = select->column_int64(2);
    auto parsed = transport::parse_relay_link(relay.link);
    if (!parsed.ok()) continue;  // written by us, so only a damaged file gets here: skip it
    relay.endpoints = std::move(parsed->endpoints);
    out.push_back(std::move(relay));
  }
  return out;
}

Status remove_relay(AccountStore& store, std::int64_t id) {
  SZ_CHECK(ensure_table(store));
  auto remove = SZ_TRY(store.database().prepare("DELETE FROM relays WHERE id = ?"));
  remove->bind(1, id);
  SZ_CHECK(remove->run("removing a relay"));
  if (store.database().changes() == 0) {
    return make_error(Errc::not_found,
                      "no relay with id " + std::to_string(id) + " (see `samizdat relay list`)");
  }
  return {};
}

asio::awaitable<Result<RelayedStream>> dial_through_relays(asio::any_io_executor executor,
                                                           std::vector<StoredRelay> relays,
                                                           std::vector<transport::Endpoint> network,
                                                           transport::DialOptions options) {
  if (network.empty())
    co_return make_error(Errc::invalid_argument, "no network endpoint to reach through a relay");
  if (relays.empty()) co_return make_error(Errc::not_found, "no relays added (samizdat relay add LINK)");
  std::string failures;
  for (const auto& relay : relays) {
    for (const auto& endpoint : relay.endpoints) {
      const auto& upstream = network.front();
      auto stream = co_await transport::dial_via_relay(executor, endpoint, upstream, options);
      if (stream.ok()) co_return RelayedStream{std::move(*stream), endpoint};
      failures += (failures.empty() ? "" : "; ") + stream.error().message;
    }
  }
  co_return make_error(Errc::network, "no relay got through: " + failures);
}

}  // namespace samizdat::client
