// samizdat: the command-line client. Argument parsing and output only; everything else
// is the client library (src/client/client.hpp).
//
// Exit codes: 0 success, 1 error (one line on stderr says what and what to do),
// 2 usage error, 3 the server could not be reached (anything to send stays queued).
#include <qrencode.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "cli/samizdat_reach.hpp"
#include "cli/samizdat_relay.hpp"
#include "client/client.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace {

using namespace samizdat;
using namespace samizdat::client;
using nlohmann::json;

constexpr int kExitError = 1;
constexpr int kExitUnreachable = 3;

struct Globals {
  std::string home;
  std::string output = "text";
  double timeout_seconds = 10;
  std::string log_level = "warn";
  bool json() const { return output == "json"; }
};

std::string default_home() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/samizdat";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/share/samizdat";
  }
  return ".samizdat";
}

ClientOptions client_options(const Globals& globals) {
  ClientOptions options;
  options.home = globals.home;
  if (const char* passphrase = std::getenv("SAMIZDAT_PASSPHRASE"); passphrase != nullptr) {
    options.passphrase = std::string(passphrase);
  }
  options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(globals.timeout_seconds * 1000));
  return options;
}

bool is_unreachable(const Error& error) {
  return error.code == Errc::network || error.code == Errc::timeout || error.code == Errc::unavailable;
}

int fail(const Error& error) {
  std::fprintf(stderr, "samizdat: %s\n", error.message.c_str());
  return is_unreachable(error) ? kExitUnreachable : kExitError;
}

std::string local_time(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

// Runs one coroutine to completion on a fresh io_context and returns its exit code.
template <class Body>
int run(Body body) {
  asio::io_context io;
  int code = kExitError;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::any_io_executor executor = io.get_executor();  // named: see util/coro.hpp
        code = co_await body(executor);
      },
      samizdat::log_escape("samizdat_main: a spawned coroutine"));
  io.run();
  return code;
}

// Every command that opens an account first retries what is left in the outbox; a
// server that cannot be reached only earns a warning here.
asio::awaitable<void> retry_outbox(Client& client, const Globals& globals) {
  auto size = client.store().outbox_size();
  if (!size.ok() || *size == 0) co_return;
  auto flushed = co_await client.flush_outbox();
  if (!flushed.ok()) {
    std::fprintf(stderr, "samizdat: warning: %zu message(s) still queued: %s\n",
                 static_cast<std::size_t>(*size), flushed.error().message.c_str());
  } else if (flushed->sent > 0 && !globals.json()) {
    std::fprintf(stderr, "samizdat: sent %zu queued message(s)\n", flushed->sent);
  }
}

json message_json(Client& client, const MessageRecord& m) {
  json out;
  out["type"] = "message";
  out["direction"] = m.direction == Direction::incoming ? "incoming" : "outgoing";
  out[m.direction == Direction::incoming ? "from" : "to"] = client.display_name(m.contact);
  out["contact_address"] = crypto::e2e::Address::from_identity(m.contact).to_string();
  out["text"] = m.body;
  out["state"] = std::string(to_string(m.state));
  out["sent_at_ms"] = m.sent_at_ms;
  out[m.direction == Direction::incoming ? "received_at_ms" : "queued_at_ms"] = m.local_at_ms;
  out["message_id"] = hex_encode(m.message_id);
  if (!m.failure_reason.empty()) out["failure_reason"] = m.failure_reason;
  return out;
}

void print_incoming(Client& client, const Globals& globals, const MessageRecord& m) {
  if (globals.json()) {
    std::cout << message_json(client, m).dump() << std::endl;
    return;
  }
  std::cout << client.display_name(m.contact) << ": " << m.body << "\n    sent " << local_time(m.sent_at_ms)
            << ", received " << local_time(m.local_at_ms) << ", id " << hex_encode(m.message_id) << std::endl;
}

void print_history_line(Client& client, const Globals& globals, const MessageRecord& m) {
  if (globals.json()) {
    std::cout << message_json(client, m).dump() << std::endl;
    return;
  }
  bool in = m.direction == Direction::incoming;
  std::string who = in ? client.display_name(m.contact) : "me";
  std::string state = std::string(to_string(m.state));
  if (m.state == MessageState::failed) state += ": " + m.failure_reason;
  std::cout << local_time(in ? m.sent_at_ms : m.local_at_ms) << (in ? "  <- " : "  -> ") << who << ": "
            << m.body << "  [" << state << "]" << std::endl;
}

Result<std::string> read_bootstrap(const std::string& value) {
  if (!value.starts_with("@")) return value;
  std::ifstream in(value.substr(1));
  if (!in) return make_error(Errc::io, "cannot read the bootstrap file " + value.substr(1));
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
  return s;
}

// The QR code as Unicode half blocks: two modules per character cell, light on dark
// terminals and dark on light ones both scan because of the quiet zone.
Result<std::string> render_qr(const std::string& text) {
  QRcode* code = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (code == nullptr) return make_error(Errc::internal, "cannot render the invite as a QR code");
  const int width = code->width;
  const int quiet = 2;
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (code->data[y * width + x] & 1) != 0;
  };
  std::string out;
  for (int y = -quiet; y < width + quiet; y += 2) {
    for (int x = -quiet; x < width + quiet; ++x) {
      bool top = dark(x, y);
      bool bottom = dark(x, y + 1);
      // Dark modules are drawn as spaces on an inverted (light) background.
      if (top && bottom)
        out += " ";
      else if (top)
        out += "\u2584";
      else if (bottom)
        out += "\u2580";
      else
        out += "\u2588";
    }
    out += "\n";
  }
  QRcode_free(code);
  return out;
}

// ---- commands ------------------------------------------------------------------

int cmd_init(const Globals& globals, const std::string& bootstrap_arg) {
  auto bootstrap = read_bootstrap(bootstrap_arg);
  if (!bootstrap.ok()) return fail(bootstrap.error());
  return run([&](asio::any_io_executor executor) -> asio::awaitable<int> {
    ClientOptions options = client_options(globals);  // named: no temporaries in a co_await
    auto client = co_await Client::init(executor, std::move(options), *bootstrap);
    if (!client.ok()) co_return fail(client.error());
    auto& c = **client;
    if (globals.json()) {
      json out{{"type", "account"},
               {"address", c.address().to_string()},
               {"device_id", c.device_id()},
               {"home", c.home().string()},
               {"key_source", std::string(to_string(c.key_source()))}};
      std::cout << out.dump() << std::endl;
    } else {
      std::cout << "Account created and registered.\nYour address: " << c.address().to_grouped_string()
                << "\nShare `samizdat invite` with the people you want to talk to." << std::endl;
    }
    co_return 0;
  });
}

int with_client(const Globals& globals,
                std::function<asio::awaitable<int>(Client&, asio::any_io_executor)> body, bool retry = true) {
  return run([&](asio::any_io_executor executor) -> asio::awaitable<int> {
    auto client = Client::open(executor, client_options(globals));
    if (!client.ok()) co_return fail(client.error());
    if (retry) co_await retry_outbox(**client, globals);
    co_return co_await body(**client, executor);
  });
}

int cmd_whoami(const Globals& globals) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    auto outbox = c.store().outbox_size();
    std::string secrets =
        c.key_source() == KeySource::passphrase
            ? "encrypted with a key derived from SAMIZDAT_PASSPHRASE (Argon2id)"
            : "encrypted with the key file " + (c.home() / kKeyFileName).string() + " (mode 0600)";
    if (globals.json()) {
      json out{{"type", "account"},
               {"address", c.address().to_string()},
               {"device_id", c.device_id()},
               {"home", c.home().string()},
               {"key_source", std::string(to_string(c.key_source()))},
               {"outbox", outbox.ok() ? *outbox : -1}};
      std::cout << out.dump() << std::endl;
    } else {
      std::cout << "Address:  " << c.address().to_grouped_string() << "\nDevice:   " << c.device_id()
                << "\nHome:     " << c.home().string() << "\nSecrets:  " << secrets
                << "\nOutbox:   " << (outbox.ok() ? *outbox : -1) << " queued" << std::endl;
    }
    co_return 0;
  });
}

int cmd_invite(const Globals& globals, bool qr) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    std::string invite = c.invite().to_string();
    if (globals.json()) {
      std::cout << json{{"type", "invite"}, {"invite", invite}, {"address", c.address().to_string()}}.dump()
                << std::endl;
      co_return 0;
    }
    if (qr) {
      auto code = render_qr(invite);
      if (!code.ok()) co_return fail(code.error());
      std::cout << *code;
    }
    std::cout << invite << std::endl;
    co_return 0;
  });
}

int cmd_contact_add(const Globals& globals, const std::string& name, const std::string& invite) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    auto contact = c.add_contact(name, invite);
    if (!contact.ok()) co_return fail(contact.error());
    auto address = crypto::e2e::Address::from_identity(contact->identity_key);
    if (globals.json()) {
      std::cout << json{{"type", "contact"}, {"name", contact->name}, {"address", address.to_string()}}.dump()
                << std::endl;
    } else {
      std::cout << "Added " << contact->name << " (" << address.to_grouped_string()
                << ").\nCompare safety numbers in person: samizdat safety-number " << contact->name
                << std::endl;
    }
    co_return 0;
  });
}

int cmd_contacts(const Globals& globals) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    auto contacts = c.contacts();
    if (!contacts.ok()) co_return fail(contacts.error());
    if (contacts->empty() && !globals.json())
      std::cout << "No contacts yet: samizdat contact add NAME INVITE" << std::endl;
    for (const auto& contact : *contacts) {
      auto address = crypto::e2e::Address::from_identity(contact.identity_key).to_string();
      if (globals.json()) {
        std::cout << json{{"type", "contact"},
                          {"name", contact.name},
                          {"address", address},
                          {"last_activity_ms", contact.last_activity_ms}}
                         .dump()
                  << std::endl;
      } else {
        std::cout << (contact.name.empty() ? "(unnamed)" : contact.name) << "  " << address
                  << "  last active " << local_time(contact.last_activity_ms) << std::endl;
      }
    }
    co_return 0;
  });
}

int cmd_safety_number(const Globals& globals, const std::string& name) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    auto number = c.safety_number(name);
    if (!number.ok()) co_return fail(number.error());
    if (globals.json()) {
      std::cout << json{{"type", "safety_number"}, {"contact", name}, {"digits", number->digits}}.dump()
                << std::endl;
    } else {
      std::cout << "Safety number with " << name << ":\n  " << number->grouped() << "\nIt must match what "
                << name << " sees; if not, someone is in the middle." << std::endl;
    }
    co_return 0;
  });
}

int cmd_send(const Globals& globals, const std::string& name, const std::string& text) {
  return with_client(
      globals,
      [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
        auto message = c.queue_text(name, text);
        if (!message.ok()) co_return fail(message.error());
        auto flushed = co_await c.flush_outbox();
        if (!flushed.ok()) {
          std::fprintf(stderr,
                       "samizdat: %s\nsamizdat: the message is queued and will be sent by the next command\n",
                       flushed.error().message.c_str());
          co_return is_unreachable(flushed.error()) ? kExitUnreachable : kExitError;
        }
        auto history = c.history(name, 50);
        MessageState state = MessageState::queued;
        std::string reason;
        if (history.ok()) {
          for (const auto& m : *history) {
            if (m.message_id == message->message_id) {
              state = m.state;
              reason = m.failure_reason;
            }
          }
        }
        if (globals.json()) {
          json out{{"type", "sent"},
                   {"to", name},
                   {"message_id", hex_encode(message->message_id)},
                   {"state", std::string(to_string(state))}};
          if (!reason.empty()) out["failure_reason"] = reason;
          std::cout << out.dump() << std::endl;
        } else if (state != MessageState::failed) {
          std::cout << "Sent to " << name << " (id " << hex_encode(message->message_id) << ")" << std::endl;
        }
        if (state == MessageState::failed) {
          std::fprintf(stderr, "samizdat: the message could not be sent: %s\n", reason.c_str());
          co_return kExitError;
        }
        if (state == MessageState::queued) {
          std::fprintf(stderr, "samizdat: the server did not accept the message yet; it stays queued\n");
          co_return kExitUnreachable;
        }
        co_return 0;
      },
      /*retry=*/false);  // the send itself flushes everything queued, oldest first
}

int cmd_recv(const Globals& globals, double wait_seconds) {
  return with_client(
      globals,
      [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
        auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(wait_seconds * 1000));
        auto synced = co_await c.sync(wait);
        if (!synced.ok()) {
          // Show what is stored even when the server is away.
          auto unread = c.take_unread();
          if (unread.ok()) {
            for (const auto& m : *unread) print_incoming(c, globals, m);
          }
          co_return fail(synced.error());
        }
        auto unread = c.take_unread();
        if (!unread.ok()) co_return fail(unread.error());
        for (const auto& m : *unread) print_incoming(c, globals, m);
        if (unread->empty() && !globals.json()) std::cout << "No new messages." << std::endl;
        // Read receipts for what was just shown.
        auto flushed = co_await c.flush_outbox();
        if (!flushed.ok()) std::fprintf(stderr, "samizdat: warning: %s\n", flushed.error().message.c_str());
        co_return 0;
      },
      /*retry=*/false);
}

int cmd_sync(const Globals& globals) {
  return with_client(
      globals,
      [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
        auto synced = co_await c.sync();
        if (!synced.ok()) co_return fail(synced.error());
        if (globals.json()) {
          std::cout << json{{"type", "sync"},
                            {"sent", synced->flushed.sent},
                            {"failed", synced->flushed.failed},
                            {"queued", synced->flushed.pending},
                            {"received", synced->received.size()},
                            {"receipts", synced->receipts}}
                           .dump()
                    << std::endl;
        } else {
          std::cout << "Sent " << synced->flushed.sent << ", still queued " << synced->flushed.pending
                    << ", received " << synced->received.size() << " new (see samizdat recv)" << std::endl;
        }
        co_return 0;
      },
      /*retry=*/false);
}

int cmd_history(const Globals& globals, const std::string& name, std::size_t limit) {
  return with_client(globals, [&](Client& c, asio::any_io_executor) -> asio::awaitable<int> {
    auto history = c.history(name, limit);
    if (!history.ok()) co_return fail(history.error());
    if (history->empty() && !globals.json()) std::cout << "No messages with " << name << " yet." << std::endl;
    for (const auto& m : *history) print_history_line(c, globals, m);
    co_return 0;
  });
}

// Interactive: a thread reads lines from stdin and hands them to the io thread, which
// sends them while a loop keeps fetching (and waiting for pushes) so incoming messages
// appear as they arrive.
int cmd_chat(const Globals& globals, const std::string& name) {
  asio::io_context io;
  // Long-running: keepalives and goodput probes find a blocked or throttled endpoint and
  // the dialer replaces it without the user doing anything.
  auto client = Client::open(io.get_executor(), long_running(client_options(globals)));
  if (!client.ok()) return fail(client.error());
  Client& c = **client;
  auto contact = c.find_contact(name);
  if (!contact.ok()) return fail(contact.error());
  std::atomic<bool> done{false};
  int code = 0;
  if (!globals.json()) {
    std::cout << "Chatting with " << name << ". Type a message and press Enter; Ctrl-D to leave."
              << std::endl;
  }

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        bool warned = false;
        while (!done) {
          auto synced = co_await c.sync(std::chrono::milliseconds(500));
          if (!synced.ok()) {
            if (!warned) {
              std::fprintf(stderr, "samizdat: %s (retrying)\n", synced.error().message.c_str());
              warned = true;
            }
            asio::steady_timer pause(io, std::chrono::seconds(1));
            co_await pause.async_wait(use_tuple);
            continue;
          }
          if (warned) std::fprintf(stderr, "samizdat: connected again\n");
          warned = false;
          auto unread = c.take_unread();
          if (unread.ok()) {
            for (const auto& m : *unread) print_incoming(c, globals, m);
          }
        }
        // Leaving: one last try for anything still queued (messages and read receipts).
        auto flushed = co_await c.flush_outbox();
        if (!flushed.ok() || flushed->pending > 0) {
          std::fprintf(stderr, "samizdat: some messages are still queued; the next command retries them\n");
          code = kExitUnreachable;
        }
        c.disconnect();
      },
      samizdat::log_escape("samizdat_main: a spawned coroutine"));

  std::thread reader([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      asio::post(io, [&c, &globals, &name, &io, line] {
        auto message = c.queue_text(name, line);
        if (!message.ok()) {
          std::fprintf(stderr, "samizdat: %s\n", message.error().message.c_str());
          return;
        }
        asio::co_spawn(
            io,
            [&c, &globals]() -> asio::awaitable<void> {
              auto flushed = co_await c.flush_outbox();
              if (!flushed.ok()) {
                std::fprintf(stderr, "samizdat: %s; the message stays queued\n",
                             flushed.error().message.c_str());
              } else if (globals.json()) {
                std::cout << json{{"type", "sent"}, {"count", flushed->sent}}.dump() << std::endl;
              }
            },
            samizdat::log_escape("samizdat_main: a spawned coroutine"));
      });
    }
    asio::post(io, [&] { done = true; });
  });
  io.run();
  reader.join();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"samizdat: end-to-end encrypted messenger client"};
  app.require_subcommand(1);
  Globals globals;
  globals.home = default_home();
  app.add_option("--home", globals.home, "account directory (default: $XDG_DATA_HOME/samizdat)");
  app.add_option("-o,--output", globals.output, "output format: text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--timeout", globals.timeout_seconds, "seconds to wait for the server per step (default 10)")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-level", globals.log_level, "trace, debug, info, warn (default), error, off");

  std::string bootstrap;
  auto* init = app.add_subcommand("init", "create an account, register it and upload prekeys");
  init->add_option("--bootstrap", bootstrap, "bootstrap string from the operator, or @FILE to read it")
      ->required();

  auto* whoami = app.add_subcommand("whoami", "show this account's address and where its secrets are");
  bool qr = false;
  auto* invite = app.add_subcommand("invite", "print a one-line invite to share with contacts");
  invite->add_flag("--qr", qr, "also draw it as a QR code");

  auto* contact = app.add_subcommand("contact", "manage contacts");
  contact->require_subcommand(1);
  std::string contact_name, contact_invite;
  auto* contact_add = contact->add_subcommand("add", "add a contact from their invite");
  contact_add->add_option("NAME", contact_name, "a short name for them")->required();
  contact_add->add_option("INVITE", contact_invite, "their invite (or address)")->required();

  auto* contacts = app.add_subcommand("contacts", "list contacts");
  std::string name, text;
  auto* safety = app.add_subcommand("safety-number", "show the safety number to compare with a contact");
  safety->add_option("NAME", name)->required();

  auto* send = app.add_subcommand("send", "send a message (exits 0 once the server holds it durably)");
  send->add_option("NAME", name)->required();
  send->add_option("TEXT", text)->required();

  double wait = 0;
  auto* recv = app.add_subcommand("recv", "fetch, decrypt and show new messages");
  recv->add_option("--wait", wait, "seconds to wait for a message if none is queued")
      ->check(CLI::NonNegativeNumber);

  auto* sync = app.add_subcommand("sync", "send the outbox and fetch new messages without showing them");
  std::size_t limit = 1000;
  auto* history = app.add_subcommand("history", "show the conversation with a contact, both directions");
  history->add_option("NAME", name)->required();
  history->add_option("--limit", limit, "at most this many of the latest messages");
  auto* chat =
      app.add_subcommand("chat", "talk interactively: type lines, incoming messages appear as they arrive");
  chat->add_option("NAME", name)->required();

  samizdat::cli::ReachCommands reach_commands;
  samizdat::cli::add_reach_commands(app, reach_commands);
  samizdat::cli::RelayCommands relay_commands;
  samizdat::cli::add_relay_commands(app, relay_commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  samizdat::init_logging(globals.log_level);

  if (init->parsed()) return cmd_init(globals, bootstrap);
  if (whoami->parsed()) return cmd_whoami(globals);
  if (invite->parsed()) return cmd_invite(globals, qr);
  if (contact_add->parsed()) return cmd_contact_add(globals, contact_name, contact_invite);
  if (contacts->parsed()) return cmd_contacts(globals);
  if (safety->parsed()) return cmd_safety_number(globals, name);
  if (send->parsed()) return cmd_send(globals, name, text);
  if (recv->parsed()) return cmd_recv(globals, wait);
  if (sync->parsed()) return cmd_sync(globals);
  if (history->parsed()) return cmd_history(globals, name, limit);
  if (chat->parsed()) return cmd_chat(globals, name);
  if (auto code = samizdat::cli::run_reach_commands(reach_commands, client_options(globals), globals.json()))
    return *code;
  if (auto code = samizdat::cli::run_relay_commands(relay_commands, client_options(globals), globals.json()))
    return *code;
  return 2;
}
