#include "censor/report/run_report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "censor/sys/command.hpp"
#include "util/log.hpp"

namespace samizdat::censor {
namespace {

using nlohmann::json;

std::string fixed(double v, int digits = 0) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) return make_error(Errc::io, "cannot write " + path);
  return {};
}

}  // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest-rank percentile: a value that was actually observed.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

RunReport::Summary RunReport::summarize() const {
  Summary s;
  std::vector<double> times;
  for (const auto& m : messages) {
    ++s.attempted;
    s.user_actions += m.user_actions;
    if (m.delivered) {
      ++s.delivered;
      times.push_back(m.deliver_ms);
    }
    if (m.t_s >= judge_after_s) {
      ++s.attempted_late;
      if (m.delivered) ++s.delivered_late;
    }
  }
  s.p50_ms = percentile(times, 50);
  s.p95_ms = percentile(times, 95);
  s.max_ms = times.empty() ? 0 : *std::max_element(times.begin(), times.end());
  s.cut_off = s.attempted_late > 0 && s.delivered_late == 0;
  // The final check round decides which bystanders are broken at the end.
  std::map<std::string, bool> last;
  for (const auto& c : bystander_checks) last[c.name] = c.reachable;
  s.bystanders = static_cast<int>(last.size());
  for (const auto& [name, reachable] : last) {
    if (!reachable) {
      ++s.bystanders_broken_final;
      s.broken_names.push_back(name);
    }
  }
  for (const auto& t : timeline) {
    if (t.kind == "block") s.caught_by[t.detail.substr(0, t.detail.find(' '))]++;
  }
  std::vector<double> rates;
  for (const auto& f : fetches) {
    if (f.complete) {
      ++s.fetches_complete;
      rates.push_back(f.bits_per_second);
    }
  }
  s.fetch_median_bps = percentile(rates, 50);
  return s;
}

std::string RunReport::to_json() const {
  const auto s = summarize();
  json j;
  j["scenario"] = scenario;
  j["scenario_description"] = scenario_description;
  j["subject"] = subject;
  j["subject_description"] = subject_description;
  j["status"] = status;
  j["status_detail"] = status_detail;
  j["started_at"] = started_at;
  j["duration_s"] = duration_s;
  j["summary"] = {{"messages_attempted", s.attempted},
                  {"messages_delivered", s.delivered},
                  {"deliver_ms_p50", s.p50_ms},
                  {"deliver_ms_p95", s.p95_ms},
                  {"deliver_ms_max", s.max_ms},
                  {"user_actions", s.user_actions},
                  {"judge_after_s", judge_after_s},
                  {"delivered_after_judge_time", s.delivered_late},
                  {"attempted_after_judge_time", s.attempted_late},
                  {"cut_off", s.cut_off},
                  {"bystanders", s.bystanders},
                  {"bystanders_broken_final", s.bystanders_broken_final},
                  {"bystanders_broken_names", s.broken_names},
                  {"blocks_by_mechanism", s.caught_by},
                  {"packets_by_mechanism", counters},
                  {"blocked_prefixes", blocked_prefixes},
                  {"blocked_address_count", blocked_address_count},
                  {"fetches_complete", s.fetches_complete},
                  {"fetch_median_bits_per_second", s.fetch_median_bps}};
  for (const auto& m : messages) {
    j["messages"].push_back({{"id", m.id},
                             {"t_s", m.t_s},
                             {"delivered", m.delivered},
                             {"deliver_ms", m.deliver_ms},
                             {"attempts", m.attempts},
                             {"user_actions", m.user_actions},
                             {"server_addr", m.server_addr},
                             {"error", m.error}});
  }
  for (const auto& f : fetches) {
    j["fetches"].push_back({{"t_s", f.t_s},
                            {"complete", f.complete},
                            {"bits_per_second", f.bits_per_second},
                            {"seconds", f.seconds},
                            {"error", f.error}});
  }
  for (const auto& t : timeline)
    j["timeline"].push_back({{"t_s", t.t_s}, {"kind", t.kind}, {"detail", t.detail}});
  for (const auto& c : bystander_checks) {
    j["bystander_checks"].push_back({{"t_s", c.t_s},
                                     {"name", c.name},
                                     {"address", c.address},
                                     {"kind", c.kind},
                                     {"reachable", c.reachable},
                                     {"detail", c.detail},
                                     {"tag", c.tag}});
  }
  for (const auto& e : escalation) {
    j["escalation"].push_back({{"t_s", e.t_s},
                               {"level", e.step.level_name},
                               {"new_prefixes", e.step.new_prefixes},
                               {"trigger", e.step.trigger},
                               {"addresses_blocked_total", e.step.addresses_blocked_total},
                               {"bystanders_broken", e.bystanders_broken}});
  }
  for (const auto& f : flows) {
    json flow = {{"t_s", f.t_s},
                 {"client", f.client + ":" + std::to_string(f.client_port)},
                 {"server", f.server + ":" + std::to_string(f.server_port)},
                 {"first_payload_length", f.first_payload_length},
                 {"first_payload_hex", f.first_payload_hex},
                 {"sni", f.sni},
                 {"actions", f.actions}};
    if (f.fully_encrypted_judged) {
      flow["fully_encrypted"] = {{"suspect", f.fully_encrypted.suspect},
                                 {"exemption", to_string(f.fully_encrypted.exemption)},
                                 {"popcount_per_byte", f.fully_encrypted.popcount_per_byte},
                                 {"printable_fraction", f.fully_encrypted.printable_fraction},
                                 {"longest_printable_run", f.fully_encrypted.longest_printable_run},
                                 {"blocked_by_coin", f.coin_blocked}};
    }
    if (f.ndpi_done) {
      flow["ndpi"] = {{"protocol", f.ndpi.protocol}, {"master", f.ndpi.master}, {"app", f.ndpi.app},
                      {"category", f.ndpi.category}, {"risks", f.ndpi.risks},   {"guessed", f.ndpi.guessed}};
    }
    j["dpi_flows"].push_back(flow);
  }
  for (const auto& p : probes) {
    json probe = {{"t_s", p.t_s},
                  {"server", p.server + ":" + std::to_string(p.port)},
                  {"blocked", p.decision.block},
                  {"replay_accepted", p.decision.replay_accepted},
                  {"length_threshold", p.decision.length_threshold},
                  {"answers_http", p.decision.answers_http},
                  {"answers_tls", p.decision.answers_tls},
                  {"reasons", p.decision.reasons}};
    for (const auto& r : p.reactions) {
      probe["reactions"].push_back({{"probe", r.probe},
                                    {"sent", r.sent},
                                    {"end", to_string(r.end)},
                                    {"received", r.received},
                                    {"first_bytes_hex", r.first_bytes_hex},
                                    {"seconds", r.seconds}});
    }
    j["probes"].push_back(probe);
  }
  j["firewall_listing"] = firewall_listing;
  return j.dump(2);
}

std::string RunReport::summary_text() const {
  const auto s = summarize();
  std::ostringstream out;
  out << "== " << scenario << " / subject " << subject;
  if (!subject_description.empty()) out << " (" << subject_description << ")";
  out << " ==\n";
  if (status != "ok") {
    out << "status: " << status << ": " << status_detail << "\n";
    if (status == "skipped") return out.str();
  }
  out << "messages: " << s.delivered << " of " << s.attempted << " delivered";
  if (s.attempted > 0) out << " (" << fixed(100.0 * s.delivered / s.attempted) << "%)";
  out << "; time to deliver p50 " << fixed(s.p50_ms) << " ms, p95 " << fixed(s.p95_ms) << " ms, max "
      << fixed(s.max_ms) << " ms\n";
  out << "sent after t=" << fixed(judge_after_s) << "s: " << s.delivered_late << " of " << s.attempted_late
      << " delivered -> "
      << (s.cut_off               ? "CUT OFF"
          : s.attempted_late == 0 ? "nothing sent"
                                  : "still getting through")
      << "\n";
  out << "user actions needed: " << s.user_actions << "\n";
  if (!fetches.empty()) {
    out << "media fetches: " << s.fetches_complete << " of " << fetches.size() << " complete, median "
        << fixed(s.fetch_median_bps / 1000.0, 1) << " kbit/s\n";
  }
  out << "censor blocks added:";
  if (s.caught_by.empty()) out << " none";
  for (const auto& [mechanism, n] : s.caught_by) out << " " << mechanism << "=" << n;
  out << "\npackets matched by mechanism:";
  bool any = false;
  for (const auto& [name, packets] : counters) {
    if (packets == 0) continue;
    out << " " << name << "=" << packets;
    any = true;
  }
  if (!any) out << " none";
  out << "\naddresses blocked: " << blocked_address_count << " (" << blocked_prefixes.size()
      << " prefixes)\n";
  out << "bystanders broken at the end: " << s.bystanders_broken_final << " of " << s.bystanders;
  for (const auto& name : s.broken_names) out << " [" << name << "]";
  out << "\n";
  for (const auto& e : escalation) {
    out << "  escalation t=" << fixed(e.t_s, 1) << "s level " << e.step.level_name << ": +"
        << e.step.new_prefixes.size() << " prefixes, " << e.step.addresses_blocked_total
        << " addresses blocked in total, bystanders broken: " << e.bystanders_broken.size();
    for (const auto& b : e.bystanders_broken) out << " [" << b << "]";
    out << "\n";
  }
  int suspects = 0, judged = 0;
  std::map<std::string, int> protocols;
  for (const auto& f : flows) {
    if (f.fully_encrypted_judged) ++judged;
    if (f.fully_encrypted_judged && f.fully_encrypted.suspect) ++suspects;
    if (f.ndpi_done) protocols[f.ndpi.protocol + (f.ndpi.guessed ? " (guessed)" : "")]++;
  }
  out << "DPI: " << flows.size() << " TCP flows, " << judged << " first payloads judged, " << suspects
      << " fully-encrypted suspects; nDPI:";
  for (const auto& [name, n] : protocols) out << " " << name << "=" << n;
  out << "\n";
  for (const auto& p : probes) {
    out << "  probe " << p.server << ":" << p.port << " -> " << (p.decision.block ? "BLOCKED" : "left alone");
    for (const auto& r : p.decision.reasons) out << "; " << r;
    out << "\n";
  }
  return out.str();
}

Status RunReport::write(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  SZ_CHECK(write_file(dir + "/report.json", to_json()));
  SZ_CHECK(write_file(dir + "/summary.txt", summary_text()));
  if (status == "skipped") return {};
  // Timeline data: one block per series, gnuplot "index" selects it.
  std::ostringstream data;
  data << "# delivered messages: t_s deliver_ms\n";
  for (const auto& m : messages)
    if (m.delivered) data << m.t_s << " " << m.deliver_ms << "\n";
  data << "\n\n# failed messages: t_s 0\n";
  bool any_failed = false;
  for (const auto& m : messages) {
    if (!m.delivered) {
      data << m.t_s << " 0\n";
      any_failed = true;
    }
  }
  if (!any_failed) data << "-1 -1\n";
  data << "\n\n# bystanders broken: t_s count\n";
  std::map<double, int> broken_at;
  for (const auto& c : bystander_checks) broken_at[c.t_s] += c.reachable ? 0 : 1;
  if (broken_at.empty()) data << "0 0\n";
  for (const auto& [t, n] : broken_at) data << t << " " << n << "\n";
  SZ_CHECK(write_file(dir + "/timeline.dat", data.str()));
  // Explicit ranges: gnuplot refuses an autoscaled range that collapses to one value.
  double y_max = 100;
  for (const auto& m : messages) y_max = std::max(y_max, m.deliver_ms * 1.1);
  std::set<std::string> bystander_names;
  for (const auto& c : bystander_checks) bystander_names.insert(c.name);
  std::ostringstream gp;
  gp << "set terminal pngcairo size 1100,520 noenhanced\n"
     << "set output '" << dir << "/timeline.png'\n"
     << "set title '" << scenario << " / " << subject << "'\n"
     << "set xlabel 'time (s)'\nset ylabel 'time to deliver (ms)'\nset y2label 'bystanders broken'\n"
     << "set xrange [0:" << duration_s << "]\nset yrange [-50:" << y_max
     << "]\nset y2range [0:" << std::max<std::size_t>(1, bystander_names.size()) << "]\nset y2tics 1\n"
     << "set ytics nomirror\nset key outside bottom center horizontal\nset grid\n";
  int arrow = 1;
  for (const auto& t : timeline) {
    if (t.kind != "event" && t.kind != "escalation" && t.kind != "move" && t.kind != "publish_map") continue;
    gp << "set arrow " << arrow++ << " from " << t.t_s << ", graph 0 to " << t.t_s
       << ", graph 1 nohead dt 2 lc rgb '#888888'\n";
    std::string label = t.detail.substr(0, 28);
    std::replace(label.begin(), label.end(), '\'', ' ');
    gp << "set label " << arrow << " '" << label << "' at " << t.t_s
       << ", graph 0.97 rotate by -90 font ',7'\n";
  }
  gp << "plot '" << dir
     << "/timeline.dat' index 0 using 1:2 with points pt 7 lc rgb '#1a9850' title 'delivered', "
     << "'' index 1 using 1:2 with points pt 2 ps 1.5 lc rgb '#d73027' title 'not delivered', "
     << "'' index 2 using 1:2 axes x1y2 with steps lw 2 lc rgb '#4575b4' title 'bystanders broken'\n";
  SZ_CHECK(write_file(dir + "/timeline.gp", gp.str()));
  auto plotted = run({"gnuplot", dir + "/timeline.gp"}, {.timeout = std::chrono::seconds(30)});
  if (!plotted || plotted->exit_code != 0) {
    // pngcairo may be missing from a minimal gnuplot; the plain png terminal is always there.
    std::string fallback = gp.str();
    fallback.replace(0, fallback.find('\n'), "set terminal png size 1100,520");
    SZ_CHECK(write_file(dir + "/timeline.gp", fallback));
    plotted = run({"gnuplot", dir + "/timeline.gp"}, {.timeout = std::chrono::seconds(30)});
  }
  if (!plotted || plotted->exit_code != 0) {
    spdlog::warn("gnuplot could not draw {}/timeline.png: {}", dir,
                 plotted ? plotted->err : plotted.error().message);
  }
  return {};
}

}  // namespace samizdat::censor
