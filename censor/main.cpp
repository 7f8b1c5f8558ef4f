// samizdat-censor: a censor in a box. `run` replays a scenario's campaign against
// each subject (the plain control, Samizdat...) and writes the reports; `check`
// validates scenario files; `sweep` removes namespaces left by a crashed run.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "censor/scenario/runner.hpp"
#include "censor/scenario/scenario.hpp"
#include "censor/sys/netns.hpp"
#include "util/log.hpp"

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) { g_interrupted = true; }

std::string self_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace samizdat::censor;
  CLI::App app{"samizdat-censor: realistic censorship machinery in network namespaces"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug (every ip/nft/tc command), info, warn");

  std::string scenario_path, report_dir, control = self_dir() + "/samizdat-censor-control";
  std::string bin_dir = std::filesystem::path(self_dir()).parent_path().string() + "/src/cli";
  std::string source_dir = std::filesystem::current_path().string();
  std::vector<std::string> subjects;
  auto* run_cmd = app.add_subcommand("run", "run a scenario (needs root)");
  run_cmd->add_option("scenario", scenario_path, "censor/scenarios/<name>.toml")->required();
  run_cmd->add_option("--report", report_dir, "directory for report.json, summary.txt, timeline.png")
      ->required();
  run_cmd->add_option("--subject", subjects, "subjects to run (default: all in the file)");
  run_cmd->add_option("--control", control, "path of samizdat-censor-control");
  run_cmd->add_option("--bin-dir", bin_dir, "where samizdatd and samizdat are ({bin_dir})");
  run_cmd->add_option("--source-dir", source_dir, "project root ({source_dir})");
  auto* check_cmd = app.add_subcommand("check", "parse scenario files and report problems");
  std::vector<std::string> check_paths;
  check_cmd->add_option("scenarios", check_paths, "scenario files")->required();
  auto* sweep_cmd = app.add_subcommand("sweep", "delete namespaces left behind by crashed runs (needs root)");
  CLI11_PARSE(app, argc, argv);
  samizdat::init_logging(log_level);

  if (*check_cmd) {
    int failures = 0;
    for (const auto& path : check_paths) {
      auto scenario = load_scenario(path);
      if (!scenario) {
        std::cerr << scenario.error().message << "\n";
        ++failures;
        continue;
      }
      std::cout << path << ": ok (" << scenario->hosts.size() << " hosts, " << scenario->subjects.size()
                << " subjects, " << scenario->events.size() << " events)\n";
    }
    return failures == 0 ? 0 : 1;
  }

  if (auto privileges = check_netns_privileges(); !privileges) {
    std::cerr << "samizdat-censor: " << privileges.error().message << "\n";
    return 77;
  }
  for (const auto& name : sweep_stale_namespaces()) std::cerr << "swept stale namespace " << name << "\n";
  if (*sweep_cmd) return 0;

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);

  auto scenario = load_scenario(scenario_path);
  if (!scenario) {
    std::cerr << "samizdat-censor: " << scenario.error().message << "\n";
    return 2;
  }
  if (subjects.empty()) {
    for (const auto& s : scenario->subjects) subjects.push_back(s.name);
  }
  if (!std::filesystem::exists(control)) {
    std::cerr << "samizdat-censor: control binary " << control
              << " not found (build samizdat-censor-control or "
              << "pass --control)\n";
    return 2;
  }
  std::filesystem::create_directories(report_dir);
  std::string combined;
  int errors = 0;
  for (const auto& name : subjects) {
    if (g_interrupted) break;
    const SubjectSpec* subject = scenario->subject(name);
    if (subject == nullptr) {
      std::cerr << "samizdat-censor: no subject '" << name << "' in " << scenario_path << "\n";
      return 2;
    }
    RunnerOptions options;
    options.report_dir = std::filesystem::absolute(report_dir + "/" + name).string();
    options.control_binary = std::filesystem::absolute(control).string();
    options.bin_dir = std::filesystem::absolute(bin_dir).string();
    options.source_dir = std::filesystem::absolute(source_dir).string();
    options.interrupted = &g_interrupted;
    spdlog::info("running {} against subject {}", scenario->name, name);
    auto report = run_subject(*scenario, *subject, options);
    if (!report) {
      std::string text = "== " + scenario->name + " / subject " + name +
                         " ==\nstatus: error: " + report.error().message + "\n";
      std::cerr << text;
      combined += text + "\n";
      ++errors;
      continue;
    }
    if (auto written = report->write(options.report_dir); !written) {
      std::cerr << "samizdat-censor: " << written.error().message << "\n";
      ++errors;
    }
    if (report->status == "error") ++errors;
    const std::string text = report->summary_text();
    std::cout << text << "report: " << options.report_dir << "/report.json, timeline: " << options.report_dir
              << "/timeline.png\n\n";
    combined += text + "\n";
  }
  std::ofstream(report_dir + "/summary.txt") << combined;
  if (g_interrupted) {
    std::cerr << "samizdat-censor: interrupted; the testbed was torn down\n";
    return 130;
  }
  return errors == 0 ? 0 : 1;
}
