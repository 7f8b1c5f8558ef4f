#include "server/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <future>
#include <thread>
#include <unordered_set>

#include "server/map_push.hpp"
#include "server/session.hpp"
#include "server/tunnel_request.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "transport/transport.hpp"
#include "util/clock.hpp"
#include "util/log.hpp"

namespace samizdat::server {

// One thread and io_context; the sessions it runs are touched only on that thread.
struct Worker {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unordered_set<Session*> sessions;
  std::thread thread;
  std::promise<void> finished;
};

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<store::SqliteStore> store;
  Router router;
  std::unique_ptr<ServiceContext> context;
  std::shared_ptr<TunnelService> tunnels;
  std::unique_ptr<PublishedMap> published_map;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<transport::Listener>> listeners;
  std::vector<transport::Endpoint> endpoints;
  std::unique_ptr<asio::steady_timer> sweep_timer;
  std::atomic<std::size_t> next_worker{0};
  std::atomic<bool> stopped{false};

  Worker& worker_for(const asio::any_io_executor& executor) {
    auto& context = asio::query(executor, asio::execution::context);
    for (auto& worker : workers) {
      if (&worker->io == &context) return *worker;
    }
    return *workers.front();
  }

  void accept(std::unique_ptr<transport::FrameStream> stream) {
    auto& worker = worker_for(stream->get_executor());
    auto executor = stream->get_executor();
    auto session = std::make_shared<Session>(*context, std::move(stream));
    worker.sessions.insert(session.get());
    asio::co_spawn(executor, session->run(), [&worker, session](std::exception_ptr error) {
      worker.sessions.erase(session.get());
      if (error) spdlog::error("a session ended with an unexpected exception");
    });
  }

  void schedule_sweep() {
    sweep_timer->expires_after(options.expiry_sweep_interval);
    sweep_timer->async_wait([this](std::error_code ec) {
      if (ec || stopped) return;
      store->mailboxes().expire(unix_millis(), [](Result<std::size_t> expired) {
        if (!expired.ok()) {
          spdlog::warn("expiry sweep failed: {}", expired.error().describe());
        } else if (*expired > 0) {
          spdlog::info("expiry sweep deleted {} envelopes past their retention", *expired);
        }
      });
      schedule_sweep();
    });
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }

const std::vector<transport::Endpoint>& Server::endpoints() const { return impl_->endpoints; }

Result<std::unique_ptr<Server>> Server::start(ServerOptions options) {
  if (!options.noise_static || !options.certificate_key) {
    return make_error(Errc::invalid_argument, "the server needs its Noise static key and certificate key");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  auto& opts = impl->options;
  opts.limits.retention_ms = opts.store_limits.retention_ms;
  opts.limits.max_envelope_bytes =
      std::min(opts.limits.max_envelope_bytes, opts.store_limits.max_envelope_bytes);

  store::SqliteStoreOptions store_options;
  store_options.limits = opts.store_limits;
  impl->store = SZ_TRY(store::SqliteStore::open(opts.database, store_options));
  impl->context = std::make_unique<ServiceContext>(ServiceContext{
      impl->store->mailboxes(), impl->store->keys(), impl->router, *opts.certificate_key, opts.limits});

  std::size_t threads = opts.threads != 0 ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < threads; ++i) impl->workers.push_back(std::make_unique<Worker>());

  Impl* raw = impl.get();
  impl->tunnels = make_tunnel_service(
      opts, [raw](std::unique_ptr<transport::FrameStream> stream) { raw->accept(std::move(stream)); });
  impl->context->tunnels = impl->tunnels.get();
  if (!opts.published_map_file.empty()) {
    impl->published_map = std::make_unique<PublishedMap>(opts.published_map_file);
    impl->context->published_map = impl->published_map.get();
  }
  for (const auto& endpoint : opts.listen) {
    transport::ListenOptions listen_options;
    listen_options.server_static = opts.noise_static;
    listen_options.handshake_timeout = opts.handshake_timeout;
    listen_options.max_queued_bytes = opts.max_queued_bytes_per_connection;
    listen_options.tls_certificate = opts.tls_certificate;
    listen_options.tls_private_key = opts.tls_private_key;
    listen_options.cover_site = opts.cover_site;
    listen_options.pick_executor = [raw] {
      auto index = raw->next_worker.fetch_add(1, std::memory_order_relaxed) % raw->workers.size();
      return asio::any_io_executor(raw->workers[index]->io.get_executor());
    };
    auto listener =
        transport::listen(raw->workers.front()->io.get_executor(), endpoint, std::move(listen_options));
    if (!listener.ok()) return std::move(listener).error();
    impl->endpoints.push_back((*listener)->local_endpoint());
    impl->listeners.push_back(std::move(*listener));
  }
  for (auto& listener : impl->listeners) {
    listener->start(
        [raw](std::unique_ptr<transport::FrameStream> stream) { raw->accept(std::move(stream)); });
  }
  impl->sweep_timer = std::make_unique<asio::steady_timer>(impl->workers.front()->io);
  impl->schedule_sweep();
  for (auto& worker : impl->workers) {
    worker->thread = std::thread([w = worker.get()] {
      w->io.run();
      w->finished.set_value();
    });
  }
  for (const auto& endpoint : impl->endpoints) spdlog::info("listening on {}", endpoint.to_uri());
  spdlog::info("serving with {} threads, database {}", threads, opts.database.string());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::wait_for_signal() {
  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](std::error_code, int signal) { received = signal; });
  io.run();
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  stop();
}

void Server::stop() {
  auto& impl = *impl_;
  if (impl.stopped.exchange(true)) return;
  // 1. Stop accepting.
  for (auto& listener : impl.listeners) listener->close();
  // 2. Close every session on its own thread.
  std::vector<std::future<void>> closed;
  for (auto& worker : impl.workers) {
    auto done = std::make_shared<std::promise<void>>();
    closed.push_back(done->get_future());
    asio::post(worker->io, [w = worker.get(), done, &impl] {
      if (w == impl.workers.front().get()) impl.sweep_timer->cancel();
      for (auto* session : w->sessions) session->close();
      done->set_value();
    });
  }
  for (auto& future : closed) future.wait();
  // 3. Flush storage: pending appends commit and their callbacks run (replies to closed
  // connections are dropped; the envelopes are durable and will be fetched later).
  impl.store->close();
  // 4. Let the workers drain what is left, then join them.
  for (auto& worker : impl.workers) worker->work.reset();
  for (auto& worker : impl.workers) {
    if (worker->finished.get_future().wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
      worker->io.stop();
    }
    worker->thread.join();
  }
  impl.listeners.clear();
  spdlog::info("stopped");
}

}  // namespace samizdat::server
